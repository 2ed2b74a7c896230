package handlers

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/slack-go/slack"
)

// Files downloads what a form's file input received.
type Files interface {
	DownloadFile(ctx context.Context, f slack.File, limit int64) ([]byte, error)
}

// maxUploadBytes bounds an uploaded CSV (a few thousand users).
const maxUploadBytes = 4 << 20

// readFiles puts the content of each uploaded file of step into the answer
// its field feeds. It returns inline errors keyed by the file input's block.
func (h *Handler) readFiles(ctx context.Context, st *slack.ViewState, step formStep, answers map[string]string) map[string]string {
	errs := map[string]string{}
	for _, fl := range step.fields {
		if fl.kind != fieldFile || st == nil {
			continue
		}
		files := st.Values[fl.key][actionValue].Files
		if len(files) == 0 {
			continue
		}
		if h.files == nil {
			errs[fl.key] = "Uploads cannot be read here: paste the CSV into the field above."
			continue
		}
		typed := ""
		if a, ok := st.Values[fl.fileFor][actionValue]; ok {
			typed = strings.TrimSpace(a.Value)
		}
		if typed != "" {
			errs[fl.key] = "Give the rows either in the field above or as a file, not both."
			continue
		}
		b, err := h.files.DownloadFile(ctx, files[0], maxUploadBytes)
		switch {
		case err != nil:
			ref := chat.NewRef()
			h.log.WithError(err).WithField("ref", ref).Warn("read uploaded file")
			errs[fl.key] = fmt.Sprintf("Could not read %s (ref %s): %s", files[0].Name, ref, err)
		case !utf8.Valid(b):
			errs[fl.key] = fmt.Sprintf("%s is not UTF-8 text: export the CSV as UTF-8.", files[0].Name)
		default:
			answers[fl.fileFor] = strings.TrimPrefix(string(b), "\ufeff") // Excel's byte-order mark
		}
	}
	return errs
}
