package rpcclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

// A fault from supervisord is a *Fault: errors.As finds it through any
// wrapping, and its text is the one Python superlance puts in its mails.
func ExampleFault() {
	// A stand-in for supervisord answering stopProcess of a stopped process.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<?xml version='1.0'?>
<methodResponse><fault><value><struct>
<member><name>faultCode</name><value><int>70</int></value></member>
<member><name>faultString</name><value><string>NOT_RUNNING: web:app</string></value></member>
</struct></value></fault></methodResponse>`)
	}))
	defer srv.Close()

	c, err := rpcclient.New(srv.URL, rpcclient.Options{Username: "user", Password: "123"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	err = c.StopProcess(ctx, "web:app", true)
	var f *rpcclient.Fault
	if errors.As(err, &f) && f.Code == rpcclient.NotRunning {
		fmt.Println("already stopped:", err)
	}
	// Output: already stopped: <Fault 70: 'NOT_RUNNING: web:app'>
}

// FromEnv reads the URL supervisord gives every listener, plus the
// credentials the operator added with environment=.
func ExampleFromEnv() {
	_, err := rpcclient.FromEnv([]string{"PATH=/usr/bin"})
	fmt.Println(err)
	// Output: SUPERVISOR_SERVER_URL is not set: not running under supervisord?
}
