package handlers

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Command is the parsed text after /onboard-customer: positional words,
// then key=value pairs (values may be "quoted", with \" and \\ escapes).
type Command struct {
	// Words are the leading positional words, e.g. ["template", "activate",
	// "de-standard"] or ["users", "MS-001"]; "new" may be absent.
	Words []string
	// Args are the key=value pairs, values unquoted.
	Args map[string]string
	// Keys are the keys in the order given, so errors and summaries can
	// follow the user's own order.
	Keys []string
}

// SyntaxError is a command that cannot be split into words and key=value
// pairs. chat.Message is meant for the user as it is.
type SyntaxError struct {
	Key     string // the key concerned, "" when none
	Message string
	csvLike bool // a closing '"' followed by ',' or ';': the value is a CSV row
}

func (e *SyntaxError) Error() string { return e.Message }

// slackUnescape undoes the HTML escaping Slack applies to command text. One
// pass, so "&amp;lt;" becomes "&lt;" and not "<".
var slackUnescape = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// slackLink is Slack's markup for a link it recognised in typed text:
// <mailto:a@b.example|a@b.example>, <http://b.example|b.example>. Slack
// escapes a typed '<' as &lt;, so a literal '<' here is always markup.
var slackLink = regexp.MustCompile(`<(mailto:|https?://)([^|<>]*)(?:\|([^<>]*))?>`)

// unwrapSlackLinks replaces link markup with what the user typed: the label,
// or the target when there is none.
func unwrapSlackLinks(text string) string {
	return slackLink.ReplaceAllStringFunc(text, func(m string) string {
		sub := slackLink.FindStringSubmatch(m)
		if sub[3] != "" {
			return sub[3]
		}
		if sub[1] == "mailto:" {
			return sub[2]
		}
		return sub[1] + sub[2]
	})
}

// closingQuote maps each opening quote to the one that ends its value. Phones
// and macOS turn typed quotes into typographic ones, in the user's locale
// (English “…”, German „…“, French «…»), so those count too.
var closingQuote = map[rune]rune{'"': '"', '\'': '\'', '“': '”', '‘': '’', '„': '“', '‚': '‘', '«': '»'}

// ParseCommand splits the text of a slash command into leading words and
// key=value pairs. It checks only the shape; which keys a sub-command
// accepts is up to the sub-command.
func ParseCommand(text string) (Command, error) {
	p := &cmdParser{src: []rune(slackUnescape.Replace(unwrapSlackLinks(text)))}
	cmd := Command{Args: map[string]string{}}
	for {
		p.skipSpace()
		if p.done() {
			return cmd, nil
		}
		start := p.pos
		key, isPair := p.scanKey()
		if isPair && len(key) >= 16 && checkKey(key) != nil && p.onlyPaddingLeft() {
			// A base64 org id with '=' padding is a positional word, not a
			// key; short tokens such as Name= stay key errors.
			isPair = false
		}
		if !isPair {
			p.pos = start
			word, err := p.scanWord()
			if err != nil {
				return Command{}, err
			}
			if len(cmd.Keys) > 0 {
				return Command{}, &SyntaxError{Message: fmt.Sprintf(
					"unexpected %q after %s=…: words go before the key=value pairs; quote values with spaces (e.g. name=\"Müller Söhne\")",
					word, cmd.Keys[len(cmd.Keys)-1])}
			}
			cmd.Words = append(cmd.Words, word)
			continue
		}
		if err := checkKey(key); err != nil {
			return Command{}, err
		}
		if _, dup := cmd.Args[key]; dup {
			return Command{}, &SyntaxError{Key: key, Message: fmt.Sprintf("%s: given twice; give each key once", key)}
		}
		value, err := p.scanValue(key)
		if err != nil {
			return Command{}, err
		}
		cmd.Args[key] = value
		cmd.Keys = append(cmd.Keys, key)
	}
}

func checkKey(key string) error {
	if key == "" {
		return &SyntaxError{Message: "a value without a key: write key=value"}
	}
	for _, r := range key {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '.' && r != '-' && r != '_' {
			hint := ""
			if strings.ToLower(key) != key {
				hint = fmt.Sprintf(" (did you mean %s=…?)", strings.ToLower(key))
			}
			return &SyntaxError{Key: key, Message: fmt.Sprintf(
				"%q is not a key: keys are lower-case letters, digits, '.', '-' and '_'%s", key, hint)}
		}
	}
	return nil
}

type cmdParser struct {
	src []rune
	pos int
}

func (p *cmdParser) done() bool { return p.pos >= len(p.src) }

func (p *cmdParser) skipSpace() {
	for !p.done() && unicode.IsSpace(p.src[p.pos]) {
		p.pos++
	}
}

// scanKey reads up to the first '=' of a token. It reports false when the
// token has no '=' before a space or a quote: then it is a positional word.
func (p *cmdParser) scanKey() (string, bool) {
	start := p.pos
	for !p.done() {
		r := p.src[p.pos]
		if r == '=' {
			key := string(p.src[start:p.pos])
			p.pos++
			return key, true
		}
		if unicode.IsSpace(r) {
			return "", false
		}
		if _, q := closingQuote[r]; q {
			return "", false
		}
		p.pos++
	}
	return "", false
}

// onlyPaddingLeft reports whether the token after its first '=' consists of
// further '=' only, as at the end of base64.
func (p *cmdParser) onlyPaddingLeft() bool {
	for i := p.pos; i < len(p.src) && !unicode.IsSpace(p.src[i]); i++ {
		if p.src[i] != '=' {
			return false
		}
	}
	return true
}

// scanWord reads a positional word; a quoted word may contain spaces.
func (p *cmdParser) scanWord() (string, error) {
	if closer, ok := closingQuote[p.src[p.pos]]; ok {
		return p.scanQuoted("", p.src[p.pos], closer)
	}
	start := p.pos
	for !p.done() && !unicode.IsSpace(p.src[p.pos]) {
		p.pos++
	}
	return string(p.src[start:p.pos]), nil
}

// scanValue reads the value after key=. A quoted value runs to its closing
// quote; an unquoted one to the next space, except that a "…" span inside it
// is kept whole with its quotes, so CSV rows such as
// rows=Anna,"van Dijk",anna@x.example reach the rows parser intact.
func (p *cmdParser) scanValue(key string) (string, error) {
	if p.done() {
		return "", nil
	}
	if closer, ok := closingQuote[p.src[p.pos]]; ok {
		start := p.pos
		v, err := p.scanQuoted(key, p.src[p.pos], closer)
		var serr *SyntaxError
		if !errors.As(err, &serr) || !serr.csvLike {
			return v, err
		}
		// "Anna Maria",Muster,… is a CSV row, not a quoted value: read it
		// as an unquoted value that keeps its quotes.
		p.pos = start
	}
	var b strings.Builder
	for !p.done() && !unicode.IsSpace(p.src[p.pos]) {
		r := p.src[p.pos]
		if r == '"' {
			if end := p.indexFrom(p.pos+1, '"'); end >= 0 {
				b.WriteString(string(p.src[p.pos : end+1]))
				p.pos = end + 1
				continue
			}
		}
		b.WriteRune(r)
		p.pos++
	}
	return b.String(), nil
}

func (p *cmdParser) indexFrom(i int, r rune) int {
	for ; i < len(p.src); i++ {
		if p.src[i] == r {
			return i
		}
	}
	return -1
}

// scanQuoted reads from an opening quote to its closer. Inside, a backslash
// escapes the closer or a backslash, and a doubled closer stands for one (as
// in CSV), so rows="a,b,\"x, y\"" and rows="a,b,""x, y""" both give
// a,b,"x, y".
func (p *cmdParser) scanQuoted(key string, opener, closer rune) (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for !p.done() {
		r := p.src[p.pos]
		switch {
		case r == '\\' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == closer || p.src[p.pos+1] == '\\'):
			b.WriteRune(p.src[p.pos+1])
			p.pos += 2
		case r == closer && p.pos+1 < len(p.src) && p.src[p.pos+1] == closer:
			b.WriteRune(closer)
			p.pos += 2
		case r == closer:
			p.pos++
			if !p.done() && !unicode.IsSpace(p.src[p.pos]) {
				next := p.src[p.pos]
				return "", &SyntaxError{Key: key, csvLike: opener == '"' && (next == ',' || next == ';'), Message: fmt.Sprintf(
					"%stext right after the closing %c: put a space between values", keyPrefix(key), closer)}
			}
			return b.String(), nil
		default:
			b.WriteRune(r)
			p.pos++
		}
	}
	return "", &SyntaxError{Key: key, Message: fmt.Sprintf(
		"%sthe value opened with %c is not closed: end it with %c", keyPrefix(key), opener, closer)}
}

func keyPrefix(key string) string {
	if key == "" {
		return ""
	}
	return key + ": "
}
