package bot

import (
	"bytes"
	"context"
	"fmt"

	"github.com/slack-go/slack"
)

// DownloadFile fetches an uploaded file (a form's file input) with the bot
// token, refusing files larger than limit before and while downloading.
func (s *SlackAPI) DownloadFile(ctx context.Context, f slack.File, limit int64) ([]byte, error) {
	if f.Size > 0 && int64(f.Size) > limit {
		return nil, fmt.Errorf("%s is %d KiB, at most %d KiB", f.Name, f.Size>>10, limit>>10)
	}
	url := f.URLPrivateDownload
	if url == "" {
		url = f.URLPrivate
	}
	if url == "" {
		return nil, fmt.Errorf("%s: Slack sent no download address", f.Name)
	}
	buf := &limitedBuffer{limit: limit}
	err := s.do(ctx, "files.download", func() error { return s.client.GetFileContext(ctx, url, buf) })
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", f.Name, err)
	}
	return buf.Bytes(), nil
}

// limitedBuffer fails a write that would grow it past limit. The buffer is
// a field, not embedded: an embedded bytes.Buffer's ReadFrom would let
// io.Copy bypass Write and the limit.
type limitedBuffer struct {
	buf   bytes.Buffer
	limit int64
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if int64(b.buf.Len()+len(p)) > b.limit {
		return 0, fmt.Errorf("file larger than %d KiB", b.limit>>10)
	}
	return b.buf.Write(p)
}

func (b *limitedBuffer) Bytes() []byte { return b.buf.Bytes() }
