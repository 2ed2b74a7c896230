package main

import (
	"bytes"
	"io"
	"os"

	"github.com/sirupsen/logrus"

	"github.com/onboardbot/onboardbot/config"
)

// newLogger builds the process logger: JSON in servers, text in console, and
// every configured secret redacted from every line whatever field carries it.
func newLogger(cfg *config.Config, out io.Writer, getenv func(string) string) *logrus.Logger {
	if out == nil {
		out = os.Stderr
	}
	l := logrus.New()
	l.SetOutput(out)
	l.SetLevel(cfg.LogLevel)
	if cfg.Mode == config.ModeConsole && getenv("LOG_LEVEL") == "" {
		// The console's own output is the conversation; logs would drown it.
		l.SetLevel(logrus.WarnLevel)
	}
	var inner logrus.Formatter = &logrus.JSONFormatter{}
	if cfg.LogFormat == "text" {
		inner = &logrus.TextFormatter{DisableColors: true, FullTimestamp: true}
	}
	l.SetFormatter(&redactingFormatter{inner: inner, secrets: cfg.Secrets()})
	return l
}

// redactingFormatter replaces secret values in formatted log lines. It works
// on the final bytes, so a secret inside an error, a URL or a field is caught
// alike.
type redactingFormatter struct {
	inner   logrus.Formatter
	secrets []string
}

func (f *redactingFormatter) Format(e *logrus.Entry) ([]byte, error) {
	b, err := f.inner.Format(e)
	if err != nil {
		return nil, err
	}
	for _, s := range f.secrets {
		if len(s) >= 4 {
			b = bytes.ReplaceAll(b, []byte(s), []byte("[redacted]"))
		}
	}
	return b, nil
}
