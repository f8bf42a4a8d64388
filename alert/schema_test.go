package alert

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// validate checks doc against the subset of JSON Schema that
// docs/alert.schema.json uses. A keyword it does not know is an error, so
// the schema cannot grow a rule this check silently ignores.
func validate(schema map[string]any, doc any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	for kw, rule := range schema {
		switch kw {
		case "$schema", "$id", "title", "description":
		case "type":
			if !hasType(doc, rule.(string)) {
				fail("want type %s, got %T", rule, doc)
			}
		case "const":
			if fmt.Sprint(doc) != fmt.Sprint(rule) {
				fail("want %v, got %v", rule, doc)
			}
		case "enum":
			if !slices.ContainsFunc(rule.([]any), func(v any) bool { return v == doc }) {
				fail("%v is not one of %v", doc, rule)
			}
		case "minLength":
			if s, ok := doc.(string); ok && len(s) < int(rule.(float64)) {
				fail("shorter than %v", rule)
			}
		case "format":
			if s, ok := doc.(string); ok && rule == "date-time" {
				if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
					fail("not a date-time: %v", err)
				}
			}
		case "required":
			obj, _ := doc.(map[string]any)
			for _, name := range rule.([]any) {
				if _, ok := obj[name.(string)]; !ok {
					fail("missing %q", name)
				}
			}
		case "properties":
			obj, _ := doc.(map[string]any)
			for name, sub := range rule.(map[string]any) {
				if v, ok := obj[name]; ok {
					errs = append(errs, validate(sub.(map[string]any), v, path+"."+name)...)
				}
			}
		case "additionalProperties":
			obj, _ := doc.(map[string]any)
			props, _ := schema["properties"].(map[string]any)
			for name, v := range obj {
				if _, ok := props[name]; ok {
					continue
				}
				switch r := rule.(type) {
				case bool:
					if !r {
						fail("unexpected property %q", name)
					}
				case map[string]any:
					errs = append(errs, validate(r, v, path+"."+name)...)
				}
			}
		case "if":
			branch := "else"
			if len(validate(rule.(map[string]any), doc, path)) == 0 {
				branch = "then"
			}
			if sub, ok := schema[branch].(map[string]any); ok {
				errs = append(errs, validate(sub, doc, path+"("+branch+")")...)
			}
		case "then", "else":
		case "not":
			if len(validate(rule.(map[string]any), doc, path)) == 0 {
				fail("matches a schema it must not match: %v", rule)
			}
		default:
			fail("schema keyword %q is not checked by this test", kw)
		}
	}
	return errs
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	}
	return false
}

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../docs/alert.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("schema: %v", err)
	}
	return s
}

// checkDocument validates one webhook body against the schema.
func checkDocument(t *testing.T, schema map[string]any, body []byte) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	if errs := validate(schema, doc, "$"); len(errs) > 0 {
		t.Errorf("document does not match docs/alert.schema.json:\n%s\n%s", strings.Join(errs, "\n"), body)
	}
}

func TestSchemaCheckFails(t *testing.T) {
	schema := loadSchema(t)
	good := NewDocument(&Alert{Tool: "crashmail", Host: "h", Kind: Crash, Text: "x", Time: time.Now()})
	b, _ := json.Marshal(good)
	var base map[string]any
	json.Unmarshal(b, &base)
	if errs := validate(schema, base, "$"); len(errs) > 0 {
		t.Fatalf("a good document fails: %v", errs)
	}
	bad := []struct {
		name   string
		change func(map[string]any)
	}{
		{"missing text", func(d map[string]any) { delete(d, "text") }},
		{"unknown kind", func(d map[string]any) { d["kind"] = "oops" }},
		{"extra field", func(d map[string]any) { d["extra"] = 1 }},
		{"bad time", func(d map[string]any) { d["time"] = "yesterday" }},
		{"recovered without resolves", func(d map[string]any) { d["kind"], d["status"] = "recovered", "resolved" }},
		{"resolves on a crash", func(d map[string]any) { d["resolves"] = "missing" }},
		{"non-string detail", func(d map[string]any) { d["details"] = map[string]any{"fields": map[string]any{"a": 1}} }},
	}
	for _, tt := range bad {
		d := map[string]any{}
		for k, v := range base {
			d[k] = v
		}
		tt.change(d)
		if errs := validate(schema, d, "$"); len(errs) == 0 {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}
