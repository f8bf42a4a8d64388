package rpcclient_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/superlance-go/superlance/rpcclient"
)

// BenchmarkGetAllProcessInfo measures one call (encode, HTTP over a unix
// socket, decode of the captured 11-process answer) on a kept-alive
// connection.
func BenchmarkGetAllProcessInfo(b *testing.B) {
	body, err := os.ReadFile(filepath.Join(xmlrpcDir, "getAllProcessInfo.xml"))
	if err != nil {
		b.Fatal(err)
	}
	srv := serveUnix(b, replay(body))
	c, err := rpcclient.New(srv.URL, rpcclient.Options{Username: "user", Password: "123"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		infos, err := c.GetAllProcessInfo(ctx)
		if err != nil || len(infos) != 11 {
			b.Fatalf("GetAllProcessInfo = %d infos, %v", len(infos), err)
		}
	}
}
