package httpheader

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdd(t *testing.T) {
	for _, tt := range []struct {
		line, name, value, wantErr string
	}{
		{"X-Token: abc", "X-Token", "abc", ""},
		{"  x-token :  a b c  ", "X-Token", "a b c", ""},
		{"Authorization: Bearer a:b", "Authorization", "Bearer a:b", ""},
		{"Empty:", "Empty", "", ""},
		{"Bearer s3cret", "", "", "want 'NAME: VALUE', got no ':'"},
		{"s3cretwithoutanyspaceatall", "", "", "want 'NAME: VALUE', got no ':'"},
		{": s3cret", "", "", "want 'NAME: VALUE'"},
		{"Bad Name: s3cret", "", "", "want 'NAME: VALUE', got no header name before ':'"},
		{"X\r\nY: s3cret", "", "", "want 'NAME: VALUE'"},
		{"X: s3cret\r\nBcc: y", "", "", "header X: the value holds a line break"},
		{"X: s3cret\x00", "", "", "the value holds a line break"},
		{"content-length: 5", "", "", "header content-length is set by the listener itself"},
	} {
		h := http.Header{}
		err := Add(h, tt.line, "Content-Length")
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Add(%q): got %v, want an error containing %q", tt.line, err, tt.wantErr)
			} else if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Add(%q): the error shows the value: %v", tt.line, err)
			}
			continue
		}
		if err != nil || len(h) != 1 || h.Get(tt.name) != tt.value {
			t.Errorf("Add(%q): got %v, %v; want %s = %q", tt.line, h, err, tt.name, tt.value)
		}
	}
}

func TestAddFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("# a comment\n\nX-A: 1\r\nX-A: 2\n  X-B: 3  \n"), 0o600)
	h := http.Header{}
	if err := AddFile(h, good); err != nil {
		t.Fatal(err)
	}
	if got := h.Values("X-A"); len(got) != 2 || got[0] != "1" || got[1] != "2" || h.Get("X-B") != "3" {
		t.Errorf("got %v", h)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("X-A: 1\nBearer s3cret\n"), 0o600)
	if err := AddFile(http.Header{}, bad); err == nil || !strings.HasPrefix(err.Error(), "line 2: ") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("got %v, want an error naming line 2 without the value", err)
	}
	if err := AddFile(http.Header{}, filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file: got no error")
	}
}
