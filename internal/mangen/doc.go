package main

import (
	"fmt"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
)

// DocComment returns the package comment of the Go package in dir.
func DocComment(dir string) (string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, "doc.go"), nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		return "", err
	}
	if f.Doc == nil {
		return "", fmt.Errorf("%s/doc.go has no package comment", dir)
	}
	return f.Doc.Text(), nil
}

// docText renders the package comment of dir as roff, leaving out its
// first paragraph (the summary the model's description already gives).
func docText(dir string) (string, error) {
	text, err := DocComment(dir)
	if err != nil {
		return "", err
	}
	var p comment.Parser
	d := p.Parse(text)
	var b strings.Builder
	for i, block := range d.Content {
		if i == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(".PP\n")
		}
		switch x := block.(type) {
		case *comment.Paragraph:
			b.WriteString(roff(plain(x.Text)) + "\n")
		case *comment.Heading:
			b.WriteString(".SS " + roff(plain(x.Text)) + "\n")
		case *comment.Code:
			b.WriteString(".RS\n.nf\n")
			for _, l := range strings.Split(strings.TrimSuffix(x.Text, "\n"), "\n") {
				b.WriteString(roff(l) + "\n")
			}
			b.WriteString(".fi\n.RE\n")
		case *comment.List:
			for _, item := range x.Items {
				b.WriteString(".IP \\(bu 2\n")
				for _, c := range item.Content {
					if para, ok := c.(*comment.Paragraph); ok {
						b.WriteString(roff(plain(para.Text)) + "\n")
					}
				}
			}
		}
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// plain is the text of a paragraph without its markup, on one line.
func plain(texts []comment.Text) string {
	var b strings.Builder
	for _, t := range texts {
		switch x := t.(type) {
		case comment.Plain:
			b.WriteString(string(x))
		case comment.Italic:
			b.WriteString(string(x))
		case *comment.Link:
			b.WriteString(plain(x.Text))
		case *comment.DocLink:
			b.WriteString(plain(x.Text))
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
