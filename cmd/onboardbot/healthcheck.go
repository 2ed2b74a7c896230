package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runHealthcheck is `onboardbot healthcheck`: the container image has no
// shell or curl, so the binary probes its own /healthz on HTTP_ADDR's port.
func runHealthcheck(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	addr := getenv("HTTP_ADDR")
	if addr == "" {
		addr = ":3000"
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintf(stderr, "onboardbot healthcheck: HTTP_ADDR %q: %v\n", addr, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort("127.0.0.1", port)+"/healthz", nil)
	if err != nil {
		fmt.Fprintln(stderr, "onboardbot healthcheck:", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "onboardbot healthcheck:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "onboardbot healthcheck: /healthz answered", resp.Status)
		return 1
	}
	return 0
}
