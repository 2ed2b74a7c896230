package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/worker"
	"github.com/slack-go/slack"
)

// numbers lists a location's available numbers, or requests a block:
// `numbers CUSTOMER [location=NAME]` · `numbers CUSTOMER add=FROM-TO [location=NAME] [main=+…]`.
func (h *Handler) numbers(ctx context.Context, u caller, c Command) *Reply {
	if rep, ok := h.setupForm(ctx, u, request.KindNumbers, c, "add"); ok && len(c.Words) < 2 {
		return rep // only a bare `numbers`: with a CUSTOMER and no add= it lists numbers
	}
	if len(c.Words) != 2 {
		return refusal("⛔ usage: numbers CUSTOMER [location=NAME] · numbers CUSTOMER add=+4930555001-+4930555099 [location=NAME] [main=+…]")
	}
	for k := range c.Args {
		if k != "add" && k != "location" && k != "main" && k != "page" {
			return refusal(fmt.Sprintf("⛔ nothing was submitted:\n• %s: unknown key (expected add, location, main, page)", chat.Esc(k)))
		}
	}
	location := strings.TrimSpace(c.Args["location"])
	if location == "" {
		location = request.DefaultLocationName
	}
	if _, adding := c.Args["add"]; !adding {
		if _, ok := c.Args["main"]; ok {
			return refusal("⛔ nothing was submitted:\n• main: only with add=…")
		}
		page := 1
		if v, ok := c.Args["page"]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 {
				return refusal(chat.Esc(fmt.Sprintf("⛔ page: %q is not a page number (1, 2, …)", v)))
			}
			page = n
		}
		return h.showNumbers(ctx, u, c.Words[1], location, page)
	}
	if _, ok := c.Args["page"]; ok {
		return refusal("⛔ nothing was submitted:\n• page: only when listing numbers, not with add=…")
	}
	ref, rep := h.setupTarget(ctx, u, c, "numbers CUSTOMER add=FROM-TO [location=NAME] [main=+…]")
	if rep != nil {
		return rep
	}
	var errs input.FieldErrors
	block, err := input.ParseNumberBlock("add", c.Args["add"], ref.Country)
	errs.Append("add", err)
	spec := &request.NumbersSpec{Customer: *ref, Location: location, Numbers: block}
	if v := strings.TrimSpace(c.Args["main"]); v != "" {
		main, err := input.NormalizePhone("main", v, ref.Country)
		errs.Append("main", err)
		spec.Main = main
	}
	if len(errs) > 0 {
		return refusal(inputProblems(errs, nil))
	}
	subject := fmt.Sprintf("numbers %s %s", ref.ExternalID, location)
	check := func(*request.Request) precheckFunc { return h.numbersCheck(spec) }
	return h.submitSetup(ctx, u, request.KindNumbers, subject, spec, check)
}

// numbersPage is how many numbers one page of `numbers CUSTOMER` lists.
const numbersPage = 50

// actionNumbersPage is the "More" button of a numbers listing.
const actionNumbersPage = "numbers_page"

// showNumbers answers `numbers CUSTOMER [location=…] [page=N]` in the
// background: it asks Webex.
func (h *Handler) showNumbers(ctx context.Context, u caller, customer, location string, page int) *Reply {
	ref, rep := h.resolveCustomer(ctx, u, customer)
	if rep != nil {
		return rep
	}
	h.queueNumbers(ctx, u, *ref, location, page)
	return &Reply{Text: chat.Esc(fmt.Sprintf("🔎 looking up the available numbers of %s at %s…", ref.ExternalID, location))}
}

// queueNumbers sends page of the listing to u from the background.
func (h *Handler) queueNumbers(ctx context.Context, u caller, ref request.CustomerRef, location string, page int) {
	h.queue.Go(ctx, "list numbers", func(ctx context.Context) error {
		m := h.listNumbers(ctx, ref, location, page)
		if u.channel == "" {
			return h.msg.DM(ctx, u.id, m)
		}
		return h.msg.Ephemeral(ctx, u.channel, u.id, m)
	})
}

// numbersPageButton answers "More": the next page of a listing.
func (h *Handler) numbersPageButton(ctx context.Context, u caller, value string) *Reply {
	// CUSTOMER|LOCATION|PAGE; an external id has no "|", a location may.
	customer, rest, _ := strings.Cut(value, "|")
	i := strings.LastIndex(rest, "|")
	page, err := strconv.Atoi(rest[i+1:])
	if i < 0 || err != nil || page < 1 {
		return refusal("⛔ this button is not valid any more")
	}
	ref, rep := h.resolveCustomer(ctx, u, customer)
	if rep != nil {
		return rep
	}
	h.queueNumbers(ctx, u, *ref, rest[:i], page) // the page is the answer
	return nil
}

// listNumbers is one page of a location's available numbers, with the way
// to the next page: `page=N`, and a More button.
func (h *Handler) listNumbers(ctx context.Context, ref request.CustomerRef, location string, page int) chat.Message {
	text := func(s string) chat.Message { return chat.Message{Text: s} }
	if ref.OrgID == "" {
		return text(chat.Esc(fmt.Sprintf("⛔ %s is not provisioned yet: it has no numbers", ref.ExternalID)))
	}
	nums, err := h.setup.AvailableNumbers(ctx, ref, location)
	if err != nil {
		msg, _ := worker.DescribeFailure(err)
		return text(chat.Esc(fmt.Sprintf("⛔ could not list the numbers of %s at %s: %s", ref.ExternalID, location, msg)))
	}
	if len(nums) == 0 {
		return text(fmt.Sprintf("%s at %s has no available numbers. Add a block with `numbers %s add=FROM-TO location=%s` (a location without a PSTN connection needs `pstn %s location=%s` first).",
			chat.Esc(ref.ExternalID), chat.Esc(location), chat.Esc(ref.ExternalID), chat.Esc(location), chat.Esc(ref.ExternalID), chat.Esc(location)))
	}
	pages := (len(nums) + numbersPage - 1) / numbersPage
	if page > pages {
		return text(fmt.Sprintf("⛔ page %d: %s at %s has %s available, on %s.", page, chat.Esc(ref.ExternalID), chat.Esc(location),
			request.Count(len(nums), "number"), request.Count(pages, "page")))
	}
	shown := nums[(page-1)*numbersPage : min(len(nums), page*numbersPage)]
	s := fmt.Sprintf("%s available at %s %s", request.Count(len(nums), "number"), chat.Esc(ref.ExternalID), chat.Esc(location))
	if pages > 1 {
		s += fmt.Sprintf(" (page %d of %d)", page, pages)
	}
	s += ":\n" + chat.Esc(strings.Join(shown, ", "))
	if page == pages {
		return text(s)
	}
	next := fmt.Sprintf("`numbers %s location=%s page=%d`", chat.Esc(ref.ExternalID), chat.Esc(location), page+1)
	s += "\nNext: " + next
	more := slack.NewButtonBlockElement(actionNumbersPage, ref.ExternalID+"|"+location+"|"+strconv.Itoa(page+1), chat.Plain("More"))
	return chat.Message{Text: s, Blocks: []slack.Block{
		slack.NewSectionBlock(chat.Md(chat.TruncateMd(s, chat.MaxSectionText)), nil, nil),
		slack.NewActionBlock("numbers:"+ref.ExternalID, more),
	}}
}

// numbersCheck asks Webex whether spec's numbers may be added at its
// location (the location's PSTN type). Behind a customer that is not
// provisioned yet it is deferred, like every setup precheck, and runs
// again (retry, "Run the precheck again") once the customer is.
func (h *Handler) numbersCheck(spec *request.NumbersSpec) precheckFunc {
	location, n := spec.Location, len(spec.Numbers)
	return h.deferredCheck(spec.Customer, func(ctx context.Context, ref request.CustomerRef) (string, error) {
		if ref.OrgID == "" {
			return "", worker.ErrCustomerNotReady
		}
		err := h.setup.CheckNumbersAllowed(ctx, ref, location)
		var we *worker.WebexError
		switch {
		case err == nil:
			return "", nil
		case errors.Is(err, worker.ErrCustomerNotReady), errors.As(err, &we) && we.Retryable:
			return "", err
		}
		return err.Error(), nil
	}, fmt.Sprintf("%s may be added at %s", request.Count(n, "number"), location))
}
