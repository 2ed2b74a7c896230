package bot

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

func TestDownloadFile(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer xoxb-files" {
			http.Error(w, "no auth", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(strings.Repeat("a,b,c@x.example\n", 100)))
	}))
	defer srv.Close()
	api := NewSlackAPI("xoxb-files", srv.URL+"/", nil)
	cases := []struct {
		name    string
		file    slack.File
		limit   int64
		wantErr string
	}{
		{"downloads with the bot token", slack.File{Name: "u.csv", URLPrivateDownload: srv.URL + "/f"}, 1 << 20, ""},
		{"declared size over the limit", slack.File{Name: "u.csv", Size: 5 << 20, URLPrivateDownload: srv.URL + "/f"}, 1 << 20, "at most"},
		{"content over the limit", slack.File{Name: "u.csv", URLPrivateDownload: srv.URL + "/f"}, 100, "larger than"},
		{"no address", slack.File{Name: "u.csv"}, 1 << 20, "no download address"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := api.DownloadFile(context.Background(), c.file, c.limit)
			if c.wantErr == "" {
				if err != nil || len(b) != 1600 {
					t.Fatalf("got %d bytes, %v", len(b), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
			if strings.Contains(err.Error(), "xoxb-files") {
				t.Fatal("the token leaked into the error")
			}
		})
	}
}
