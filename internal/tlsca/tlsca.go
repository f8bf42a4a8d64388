// Package tlsca reads a PEM file of CA certificates for an option such as
// --smtp-cacert or httpok's --https-cacert.
package tlsca

import (
	"crypto/x509"
	"fmt"
	"os"
)

// Pool returns the certificates in file as a pool; a file without any PEM
// certificate is an error, so a wrong file is caught at start-up.
func Pool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}
