package episode

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStoreRoundTrip(t *testing.T) {
	s := Store{Path: filepath.Join(t.TempDir(), "missing.json")}
	recs, err := s.Load()
	if recs != nil || err != nil {
		t.Fatalf("missing file: got %v, %v; want nothing and no error", recs, err)
	}
	in := []Record{
		{Group: "app", Name: "web", Since: t0, Reported: t0.Add(time.Hour)},
		{Group: "idle", Name: "idle", Since: t0.Add(time.Minute)},
	}
	if err := s.Save(in); err != nil {
		t.Fatal(err)
	}
	out, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Group != "app" || !out[0].Since.Equal(t0) || !out[0].Reported.Equal(t0.Add(time.Hour)) || !out[1].Reported.IsZero() {
		t.Errorf("got %+v, want %+v", out, in)
	}
	// Nothing but the file is left in the directory.
	entries, _ := os.ReadDir(filepath.Dir(s.Path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the state file", len(entries))
	}
	if err := s.Save(nil); err != nil {
		t.Fatal(err)
	}
	if out, err := s.Load(); len(out) != 0 || err != nil {
		t.Errorf("after saving nothing: got %v, %v; want no episodes", out, err)
	}
}

func TestStoreLoadRejects(t *testing.T) {
	for _, tt := range []struct{ name, content, wantErr string }{
		{"truncated", `{"version":1,"episodes":[{"group":"a"`, "unexpected end"},
		{"garbage", "\x00\x01 not json", "invalid character"},
		{"other version", `{"version":7,"episodes":[]}`, "version 7"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := Store{Path: filepath.Join(t.TempDir(), "missing.json")}
			if err := os.WriteFile(s.Path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			recs, err := s.Load()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || recs != nil {
				t.Errorf("got %v, %v; want an error containing %q", recs, err, tt.wantErr)
			}
			// The next save replaces the corrupt file.
			if err := s.Save([]Record{{Group: "a", Name: "a", Since: t0}}); err != nil {
				t.Fatal(err)
			}
			if recs, err := s.Load(); len(recs) != 1 || err != nil {
				t.Errorf("after a save: got %v, %v; want one episode", recs, err)
			}
		})
	}
	t.Run("incomplete entries are skipped", func(t *testing.T) {
		s := Store{Path: filepath.Join(t.TempDir(), "missing.json")}
		content := `{"version":1,"episodes":[{"group":"a","name":"a","since":"2026-11-21T16:00:00Z"},{"group":"b","name":""},{"group":"c","name":"c"}]}`
		os.WriteFile(s.Path, []byte(content), 0o600)
		recs, err := s.Load()
		if err != nil || len(recs) != 1 || recs[0].Name != "a" {
			t.Errorf("got %+v, %v; want only a", recs, err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads files whatever their mode")
		}
		s := Store{Path: filepath.Join(t.TempDir(), "missing.json")}
		os.WriteFile(s.Path, []byte(`{"version":1}`), 0o000)
		if _, err := s.Load(); err == nil {
			t.Error("got no error for an unreadable file")
		}
	})
}

func TestStoreCheck(t *testing.T) {
	dir := t.TempDir()
	if err := (Store{Path: filepath.Join(dir, "missing.json")}).Check(); err != nil {
		t.Errorf("usable directory: got %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Check left %d files behind", len(entries))
	}
	if err := (Store{Path: filepath.Join(dir, "nosuch", "missing.json")}).Check(); err == nil {
		t.Error("missing directory: got no error")
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	if err := (Store{Path: filepath.Join(file, "missing.json")}).Check(); err == nil {
		t.Error("directory that is a file: got no error")
	}
	if err := (Store{Path: dir}).Check(); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("state file that is a directory: got %v", err)
	}
}
