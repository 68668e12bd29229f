package dialogs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Message ids of the hand-off. The ones an adapter renders for the support
// group or as an agent's template are exported; supportIDs lists them all
// for the locale check.
const (
	msgSupportConnected  MsgID = "support_connected"
	msgSupportHoursIn    MsgID = "support_hours_in"
	msgSupportHoursOut   MsgID = "support_hours_out"
	msgSupportOffer      MsgID = "support_offer"
	msgSupportHandedBack MsgID = "support_handed_back"
	msgSupportClosed     MsgID = "support_closed"
	msgSupportRate       MsgID = "support_rate"
	msgSupportRated      MsgID = "support_rated"
	msgBtnRate           MsgID = "btn_rate"
	msgSupportNone       MsgID = "support_none"    // no desk: the acquirer's hotline
	msgHotlineDefault    MsgID = "hotline_default" // where the hotline number is written
	msgRefusedNoDesk     MsgID = "acquirer_refused_nodesk"

	// Support hours, said in the merchant's language.
	msgHoursWhen     MsgID = "hours_when"      // days, from, to, time zone
	msgHoursAlways   MsgID = "hours_always"    // 24/7
	msgHoursEveryDay MsgID = "hours_every_day" // every day of the week
	msgHoursDayRange MsgID = "hours_day_range" // Mon–Fri
	msgHoursDayList  MsgID = "hours_day_list"  // Mon, Wed
	msgHoursChina    MsgID = "hours_zone_china"
	msgHoursSun      MsgID = "hours_sun"
	msgHoursMon      MsgID = "hours_mon"
	msgHoursTue      MsgID = "hours_tue"
	msgHoursWed      MsgID = "hours_wed"
	msgHoursThu      MsgID = "hours_thu"
	msgHoursFri      MsgID = "hours_fri"
	msgHoursSat      MsgID = "hours_sat"

	MsgSupportSignature MsgID = "support_signature" // an agent's first name under a relayed message
	// Said by the desk when the support group has not taken the merchant's
	// hand-off for a while (Telegram down, the bot removed from the group),
	// and when it finally has.
	MsgSupportNotReached MsgID = "support_not_reached"
	MsgSupportReached    MsgID = "support_reached"

	// The support group (rendered in the group's language).
	MsgHOCard        MsgID = "ho_card"
	MsgHOCardStuck   MsgID = "ho_card_stuck"
	MsgHOCardAnswers MsgID = "ho_card_answers"
	MsgHOCardAnswer  MsgID = "ho_card_answer"
	MsgHOCardApps    MsgID = "ho_card_apps"
	MsgHOCardApp     MsgID = "ho_card_app"
	MsgHOCardNone    MsgID = "ho_card_none"
	MsgHOCardRecent  MsgID = "ho_card_recent"
	MsgHOCardHelp    MsgID = "ho_card_help"
	MsgHOUnbound     MsgID = "ho_unbound"
	MsgHOBtnClaim    MsgID = "ho_btn_claim"
	MsgHOBtnHandBack MsgID = "ho_btn_handback"
	MsgHOClaimed     MsgID = "ho_claimed"
	MsgHOOwnedBy     MsgID = "ho_owned_by"
	MsgHOUnclaimed   MsgID = "ho_unclaimed"
	MsgHOHandedBack  MsgID = "ho_handed_back"
	MsgHORated       MsgID = "ho_rated"
	MsgHOLeft        MsgID = "ho_left"
	MsgHOBlocked     MsgID = "ho_blocked"
	MsgHOMasked      MsgID = "ho_masked"
	MsgHOMediaMasked MsgID = "ho_media_masked"
	MsgHONotCopied   MsgID = "ho_not_copied"
	MsgHOEdited      MsgID = "ho_edited"
	MsgHOTemplates   MsgID = "ho_templates"
	MsgHOOpenUsage   MsgID = "ho_open_usage"
	MsgHOOpenUnknown MsgID = "ho_open_unknown"
	MsgHOOpened      MsgID = "ho_opened"
	MsgHONoMerchant  MsgID = "ho_no_merchant"
	MsgHOStateOpen   MsgID = "ho_state_open"
	MsgHOStateClaim  MsgID = "ho_state_claimed"
	MsgHOStateClosed MsgID = "ho_state_closed"
	MsgHOTopicLost   MsgID = "ho_topic_lost"
	MsgHOOnlyAgents  MsgID = "ho_only_agents"
	MsgHOStaleButton MsgID = "ho_stale_button"

	// Reply templates an agent sends by short name, in the merchant's language.
	MsgTplLetter  MsgID = "tpl_letter"
	MsgTplThirty  MsgID = "tpl_30days"
	MsgTplHotline MsgID = "tpl_hotline"
)

// EventAgentOpen is posted by the support desk when an agent opens a
// conversation with the merchant (Arg: the agent's first name).
const EventAgentOpen = "agent_open"

// Template is the prepared answer an agent names with /t (letter, 30days,
// hotline); ok is false for a name that is none.
func Template(name string) (key MsgID, ok bool) {
	switch name {
	case "letter":
		return MsgTplLetter, true
	case "30days":
		return MsgTplThirty, true
	case "hotline":
		return MsgTplHotline, true
	}
	return "", false
}

func supportIDs() []MsgID {
	return []MsgID{msgSupportNone, msgHotlineDefault, msgRefusedNoDesk, msgSupportConnected, msgSupportHoursIn, msgSupportHoursOut, msgSupportOffer,
		msgSupportHandedBack, msgSupportClosed, msgSupportRate, msgSupportRated, msgBtnRate, MsgSupportSignature,
		MsgHOCard, MsgHOCardStuck, MsgHOCardAnswers, MsgHOCardAnswer, MsgHOCardApps, MsgHOCardApp, MsgHOCardNone,
		MsgHOCardRecent, MsgHOCardHelp, MsgHOUnbound, MsgHOBtnClaim, MsgHOBtnHandBack, MsgHOClaimed, MsgHOOwnedBy,
		MsgHOUnclaimed, MsgHOHandedBack, MsgHORated, MsgHOLeft, MsgHOBlocked, MsgHOMasked, MsgHOMediaMasked, MsgHONotCopied,
		MsgHOEdited, MsgHOTemplates, MsgHOOpenUsage, MsgHOOpenUnknown, MsgHOOpened, MsgHONoMerchant,
		MsgHOStateOpen, MsgHOStateClaim, MsgHOStateClosed, MsgHOTopicLost, MsgHOOnlyAgents, MsgHOStaleButton,
		MsgSupportNotReached, MsgSupportReached,
		MsgTplLetter, MsgTplThirty, MsgTplHotline}
}

// failsBeforeOffer is how many answers in a row a step may refuse before the
// merchant is offered (never forced to) a person.
const failsBeforeOffer = 3

// HandOffInfo is what the support group is shown about the merchant when
// the chat is handed off: nothing secret, the card masked.
type HandOffInfo struct {
	MerchantNo   string // "" when the chat is not bound yet
	MerchantName string
	Lang         string
	Step         string // the step the merchant left
	Stuck        bool   // offered after failed answers, not asked for
	Answers      []Answer
}

// Answer is one answer so far: the step it answers and its value, masked
// where it is sensitive.
type Answer struct {
	Step  string
	Value string
}

// SupportHours says when agents work. The zero value says nothing about
// hours (nothing configured): the merchant is told only that they are
// connected.
type SupportHours struct {
	always   bool // 24/7
	loc      *time.Location
	days     [7]bool // by time.Weekday
	from, to int     // minutes after midnight; to <= from wraps past midnight
}

// ParseSupportHours reads SUPPORT_HOURS: "09:00-18:00" (every day),
// "Mon-Fri 09:00-18:00", "Mon,Wed,Sat 10:00-16:00" or "24/7", in loc
// (Asia/Shanghai unless the operator says otherwise).
func ParseSupportHours(s string, loc *time.Location) (SupportHours, error) {
	s = strings.TrimSpace(s)
	if loc == nil {
		return SupportHours{}, fmt.Errorf("support hours: no time zone")
	}
	h := SupportHours{loc: loc}
	if s == "24/7" {
		h.always = true
		h.days = everyDay
		h.from, h.to = 0, 24*60
		return h, nil
	}
	fields := strings.Fields(s)
	var dayPart, timePart string
	switch len(fields) {
	case 1:
		timePart = fields[0]
		h.days = everyDay
	case 2:
		dayPart, timePart = fields[0], fields[1]
		if err := h.parseDays(dayPart); err != nil {
			return SupportHours{}, err
		}
	default:
		return SupportHours{}, fmt.Errorf("support hours %q: want like \"Mon-Fri 09:00-18:00\"", s)
	}
	a, b, ok := strings.Cut(timePart, "-")
	var err error
	if ok {
		if h.from, err = clockMinutes(a); err == nil {
			h.to, err = clockMinutes(b)
		}
	}
	if !ok || err != nil || h.from == h.to {
		return SupportHours{}, fmt.Errorf("support hours %q: want a time range like 09:00-18:00", s)
	}
	return h, nil
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

func (h *SupportHours) parseDays(s string) error {
	for _, part := range strings.Split(strings.ToLower(s), ",") {
		a, b, isRange := strings.Cut(part, "-")
		from, ok1 := weekdays[a]
		to, ok2 := weekdays[b]
		if !ok1 || isRange && !ok2 {
			return fmt.Errorf("support hours: unknown day in %q (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)", s)
		}
		if !isRange {
			to = from
		}
		for d := from; ; d = (d + 1) % 7 {
			h.days[d] = true
			if d == to {
				break
			}
		}
	}
	return nil
}

func clockMinutes(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 || h == 24 && m != 0 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return h*60 + m, nil
}

// everyDay is SupportHours.days open every day of the week.
var everyDay = [7]bool{true, true, true, true, true, true, true}

// dayIDs names the days of the week, by time.Weekday.
var dayIDs = [7]MsgID{msgHoursSun, msgHoursMon, msgHoursTue, msgHoursWed, msgHoursThu, msgHoursFri, msgHoursSat}

// when says the hours in the merchant's language: the days (runs of three
// or more as a range, Monday first), the times and the time zone (China's
// by name, any other as configured).
func (h SupportHours) when() Text {
	if h.always {
		return Text{Key: msgHoursAlways}
	}
	var days []Text
	for i := 0; i < 7; {
		d := (i + 1) % 7 // Monday first
		if !h.days[d] {
			i++
			continue
		}
		j := i
		for j+1 < 7 && h.days[(j+2)%7] {
			j++
		}
		last := (j + 1) % 7
		switch {
		case j-i >= 2:
			days = append(days, Text{Key: msgHoursDayRange, Args: Arg{"From": Text{Key: dayIDs[d]}, "To": Text{Key: dayIDs[last]}}})
		default:
			for k := i; k <= j; k++ {
				days = append(days, Text{Key: dayIDs[(k+1)%7]})
			}
		}
		i = j + 1
	}
	list := Text{Key: msgHoursEveryDay}
	if len(days) > 0 && h.days != everyDay {
		list = days[len(days)-1]
		for k := len(days) - 2; k >= 0; k-- {
			list = Text{Key: msgHoursDayList, Args: Arg{"A": days[k], "B": list}}
		}
	}
	var zone any = h.loc.String()
	switch h.loc.String() {
	case "Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC":
		zone = Text{Key: msgHoursChina}
	}
	clock := func(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
	return Text{Key: msgHoursWhen, Args: Arg{"Days": list, "From": clock(h.from), "To": clock(h.to), "Zone": zone}}
}

// Set reports whether hours were configured.
func (h SupportHours) Set() bool { return h.loc != nil }

// Open reports whether agents work at t.
func (h SupportHours) Open(t time.Time) bool {
	if !h.Set() {
		return false
	}
	t = t.In(h.loc)
	m := t.Hour()*60 + t.Minute()
	if h.from < h.to {
		return h.days[t.Weekday()] && m >= h.from && m < h.to
	}
	// A night shift (22:00-06:00) belongs to the day it starts.
	if m >= h.from {
		return h.days[t.Weekday()]
	}
	return m < h.to && h.days[(t.Weekday()+6)%7]
}

// WithSupportHours tells merchants who ask for help whether agents work now.
func WithSupportHours(h SupportHours) Option { return func(e *Engine) { e.hours = h } }

// WithoutDesk says no support desk reads this bot (no SUPPORT_CHAT_ID, the
// console): a merchant who asks for a person is told how to reach the
// acquirer's customer service (hotline, e.g. "95516"; "" says where to find
// the number) and stays at the step they were at, instead of a hand-off
// that nobody would answer.
func WithoutDesk(hotline string) Option {
	return func(e *Engine) { e.noDesk, e.hotline = true, hotline }
}

// hotlineArg is the acquirer's customer service as a message argument.
func (t *turn) hotlineArg() Arg {
	if t.hotline != "" {
		return Arg{"Hotline": t.hotline}
	}
	return Arg{"Hotline": Text{Key: msgHotlineDefault}}
}

// noSupportHere answers a request for a person where no desk is: the
// hotline, then the question the merchant was at, unchanged.
func (t *turn) noSupportHere() bool {
	if !t.noDesk {
		return false
	}
	t.say(msgSupportNone, t.hotlineArg())
	t.prompt()
	return true
}

// handOff hands the chat to support: the adapter opens the hand-off with the
// info, and the merchant is told what to expect, without promising a
// response time nobody can guarantee.
func (t *turn) handOff(stuck bool) {
	st := t.st
	if st.Step != StepMenu && st.Step != StepCancel {
		st.Ret = st.Step // from the cancel question, Ret already holds the step
	}
	// Editing stays: the hand-back restores the step, and an edit from the
	// summary still goes back to the summary. A rating button of an
	// earlier hand-off no longer rates anything: this one is rated when it
	// ends.
	st.Fails, st.RateOpen = 0, false
	if !t.fire(evSupport) {
		return
	}
	t.effect(Effect{Kind: HandOff, Step: st.Ret, Info: t.handOffInfo(stuck)})
	r := t.say(msgSupportConnected, nil, row(btn(msgBtnSupportBack, "sup:back")))
	if h := t.hours; h.Set() {
		key := msgSupportHoursOut
		if h.Open(t.now()) {
			key = msgSupportHoursIn
		}
		r.Lines = append(r.Lines, Text{Key: key, Args: Arg{"When": h.when()}})
	}
}

func (t *turn) handOffInfo(stuck bool) *HandOffInfo {
	st := t.st
	step := st.Ret
	if step == "" {
		step = StepMenu
	}
	info := &HandOffInfo{MerchantNo: st.MerchantNo, MerchantName: st.MerchantName, Lang: st.Lang, Step: step, Stuck: stuck}
	if !st.Bound {
		info.MerchantNo = ""
	}
	add := func(step, value string) {
		if value != "" {
			info.Answers = append(info.Answers, Answer{Step: step, Value: value})
		}
	}
	for _, d := range t.fields {
		if d.field.handoff != nil {
			add(d.name, d.field.handoff(st, step))
		}
	}
	return info
}

// relayed takes the merchant's message while the chat is handed off: it goes
// to the agent as it is, uninterpreted. A card or ID number in it is removed
// from the chat all the same (the adapter masks what the group sees).
func (t *turn) relayed() bool {
	if t.st.Step != StepSupport {
		return false
	}
	in := t.in
	switch in.Kind {
	case InText, InMedia, InOther, InEdit:
	default:
		return false
	}
	if looksLikeCard(in.Text) {
		t.effect(Effect{Kind: DeleteMessage, MessageID: in.MessageID})
		t.say(msgStrayCard, nil)
	}
	t.effect(Effect{Kind: Relay, MessageID: in.MessageID})
	return true
}

// handBack is EventHandBack: an agent handed the chat back. The merchant is
// where they left, with every answer, and sees that step's question.
func (t *turn) handBack() {
	st := t.st
	if st.Step != StepSupport {
		// The merchant left support on their own before the agent closed.
		t.say(msgSupportClosed, nil)
		return
	}
	st.RateOpen = true
	t.say(msgSupportRate, nil, row(t.rateButtons()...))
	ret := st.Ret
	if ret == "" {
		ret = StepMenu
	}
	if !t.fire(resumeMove(ret)) {
		return
	}
	st.Ret = ""
	t.say(msgSupportHandedBack, nil)
	if ret == StepMenu {
		t.menu(false)
		return
	}
	t.prompt()
}

func (t *turn) rateButtons() []Button {
	b := make([]Button, 0, 5)
	for n := 1; n <= 5; n++ {
		b = append(b, Button{Key: msgBtnRate, Args: Arg{"N": n}, Data: "rate:" + strconv.Itoa(n)})
	}
	return b
}

// rated takes a rating button. It stays valid while the merchant answers the
// resumed question, and counts once.
func (t *turn) rated(data string) bool {
	arg, ok := strings.CutPrefix(data, "rate:")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 || n > 5 || !t.st.RateOpen {
		t.out.Stale = true
		t.say(MsgStaleButton, nil)
		return true
	}
	t.st.RateOpen = false
	t.effect(Effect{Kind: Rated, Rating: n})
	t.say(msgSupportRated, nil)
	return true
}

// afterSupport follows what a turn did to the hand-off: leaving support on
// their own ends it for the agent, and answers refused three times in a row
// at one step earn an offer of a person.
func (t *turn) afterSupport(before State) {
	st := t.st
	if before.Step == StepSupport && st.Step != StepSupport && !(t.in.Kind == InEvent && t.in.Text == EventHandBack) {
		t.effect(Effect{Kind: HandOffEnd})
	}
	if t.atDoor {
		return // not an answer: neither counted nor a reason to count again
	}
	if t.in.Kind != InText || st.Step != before.Step || !t.def().typed ||
		stalenessKey(*st) != stalenessKey(before) || asksWhatNext(strings.TrimSpace(t.in.Text)) {
		if t.in.Kind == InText || st.Step != before.Step {
			st.Fails = 0
		}
		return
	}
	st.Fails++
	if st.Fails >= failsBeforeOffer && !t.offersSupport() {
		st.Fails = 0
		// On the last reply, after its own buttons: the offer adds a way
		// out and changes none of the ways on.
		if n := len(t.out.Replies); n > 0 {
			r := &t.out.Replies[n-1]
			r.Lines = append(r.Lines, Text{Key: msgSupportOffer})
			r.Buttons = append(r.Buttons, row(btn(msgBtnSupport, "m:stuck")))
		} else {
			t.say(msgSupportOffer, nil, row(btn(msgBtnSupport, "m:stuck")))
		}
	}
}

// offersSupport reports an answer that already has a support button (a
// holder name that does not match, say): a second offer would be noise.
func (t *turn) offersSupport() bool {
	for _, r := range t.out.Replies {
		for _, row := range r.Buttons {
			for _, b := range row {
				if b.Data == "m:support" || b.Data == "m:stuck" {
					return true
				}
			}
		}
	}
	return false
}

// agentOpened is EventAgentOpen: an agent started a conversation, so the
// chat is handed off as if the merchant had asked.
func (t *turn) agentOpened() {
	if t.st.Step == StepSupport {
		return
	}
	t.handOff(false)
}
