package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
)

// runSandbox serves the Webex sandbox on its own (`onboardbot sandbox`).
func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := sandbox.ParseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "onboardbot sandbox:", err)
		return 2
	}
	sb := sandbox.New(opts)
	defer sb.Close()
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		fmt.Fprintln(stderr, "onboardbot sandbox:", err)
		return 1
	}
	fmt.Fprintf(stdout, "Webex sandbox on http://%s/v1 (stats: http://%s/_sandbox/stats)\n", ln.Addr(), ln.Addr())
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "onboardbot sandbox:", err)
		return 1
	}
	return 0
}
