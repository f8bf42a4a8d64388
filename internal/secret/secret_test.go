package secret

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("s3cret\r\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PW=fromenv"}
	for _, tt := range []struct {
		name, direct, envName, file, want string
		wantErr                           bool
	}{
		{"direct", "d", "", "", "d", false},
		{"env", "", "PW", "", "fromenv", false},
		{"env missing", "", "NOPE", "", "", true},
		{"file", "", "", file, "s3cret", false},
		{"file missing", "", "", file + ".none", "", true},
		{"two sources", "d", "PW", "", "", true},
		{"none", "", "", "", "", false},
	} {
		got, err := Resolve(tt.direct, tt.envName, tt.file, env)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: got %q, %v; want %q, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}
