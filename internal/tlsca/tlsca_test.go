package tlsca

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/internal/svtest"
)

func TestPool(t *testing.T) {
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{StartTLS: true})
	if pool, err := Pool(srv.CAFile); err != nil || pool == nil {
		t.Errorf("Pool(CA file) = %v, %v; want a pool", pool, err)
	}
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{notPEM: "holds no PEM certificate", notPEM + ".none": "reading CA file"} {
		if _, err := Pool(file); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Pool(%s) = %v, want an error containing %q", file, err, want)
		}
	}
}
