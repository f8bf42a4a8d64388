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

// A fault from supervisord is a *Fault, wrapped with the call it answered:
// errors.As finds it and its Code tells what happened.
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
	if errors.As(err, &f) && f.Code == rpcclient.FaultNotRunning {
		fmt.Println("already stopped:", f.Code)
		fmt.Println(err)
	}
	// Output:
	// already stopped: NOT_RUNNING
	// supervisor.stopProcess "web:app": supervisor fault 70 NOT_RUNNING: web:app
}

// FromEnv reads the URL supervisord gives every listener, plus the
// credentials the operator added with environment=.
func ExampleFromEnv() {
	_, err := rpcclient.FromEnv([]string{"PATH=/usr/bin"})
	fmt.Println(err)
	// Output: SUPERVISOR_SERVER_URL is not set: not running under supervisord?
}
