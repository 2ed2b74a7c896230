package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/onboardbot/onboardbot/store"
)

func TestOpenURLs(t *testing.T) {
	t.Parallel()
	const secret = "s3cr%2Fet"
	cases := []struct {
		url     string
		want    string // client type: single, cluster, failover; "" for an error
		wantErr string
	}{
		{url: "redis://localhost:6379/0", want: "single"},
		{url: "redis://:" + secret + "@localhost:6379/2", want: "single"},
		{url: "rediss://user:" + secret + "@redis.example:6380", want: "single"},
		{url: "unix:///run/redis/redis.sock?db=1", want: "single"},
		{url: "redis://h1:7000?addr=h2:7001&addr=h3:7002", want: "cluster"},
		{url: "redis://:" + secret + "@h1:7000/0?addr=h2:7001&addr=h3:7002", want: "cluster"},
		{url: "redis://s1:26379?master_name=main&addr=s2:26379&addr=s3:26379", want: "failover"},
		{url: "redis://s1:26379?master_name=main&password=" + secret, want: "failover"},

		{url: "http://:" + secret + "@localhost", wantErr: `scheme "http"`},
		{url: "redis://:" + secret + "@localhost:notaport", wantErr: "port"},
		{url: "redis://:" + secret + "@[::1", wantErr: "REDIS_URL"},
		{url: "redis:///0", wantErr: "no host"},
		{url: "redis://:" + secret + "@localhost/x/y", wantErr: "path"},
		{url: "redis://:" + secret + "@localhost/abc", wantErr: "database"},
		{url: "redis://:" + secret + "@localhost?bogus=1", wantErr: "unexpected option: bogus"},
		{url: "redis://:" + secret + "@h1:7000/3?addr=h2:7001", wantErr: "only database 0"},
		{url: "redis://:" + secret + "@h1:7000?addr=h2", wantErr: "addr"},
		{url: "unix:///tmp/r.sock?addr=h2:7001", wantErr: "cluster"},
		{url: "redis://s1:26379?master_name=", wantErr: "master_name is empty"},
		{url: "redis://u:" + secret + "@s1?master_name=m&password=" + secret + "&bogus=1", wantErr: "bogus"},
		{url: "redis://:" + secret + "@localhost?dial_timeout=" + secret, wantErr: "dial_timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			rdb, closer, err := store.Open(context.Background(), tc.url)
			if tc.wantErr != "" {
				if err == nil {
					_ = closer()
					t.Fatalf("Open succeeded, want error containing %q", tc.wantErr)
				}
				msg := err.Error()
				if !strings.Contains(msg, tc.wantErr) {
					t.Errorf("error %q does not contain %q", msg, tc.wantErr)
				}
				for _, leak := range []string{secret, "s3cr/et", "s3cr"} {
					if strings.Contains(msg, leak) {
						t.Errorf("error leaks the password: %q", msg)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer func() { _ = closer() }()
			got := "single"
			switch c := rdb.(type) {
			case *redis.ClusterClient:
				got = "cluster"
			case *redis.Client:
				// go-redis names the address of a Sentinel-backed client so.
				if c.Options().Addr == "FailoverClient" {
					got = "failover"
				}
			}
			if got != tc.want {
				t.Errorf("client is %s (%T), want %s", got, rdb, tc.want)
			}
		})
	}
}

func TestOpenEmbedded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, closer, err := store.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	s := store.New(rdb, "onboardbot:")
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("embedded redis: %v", err)
	}
	if err := closer(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("embedded redis still answers after close")
	}
}
