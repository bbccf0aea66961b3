package mask

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultThreshold is the lowest score a finding must have unless a
// Scanner is told otherwise: values whose check holds pass it alone;
// values with no check (passports, permits, a 15-digit legacy ID) need a
// context word; a negative context word ("订单号", "version") holds most
// back.
const DefaultThreshold = 0.5

// Scanner finds personal information in text. Make one with NewScanner;
// it is safe for concurrent use.
type Scanner struct {
	kinds     map[Kind]bool
	threshold float64
	strict    bool // WithStrictNumbers
}

// Option configures a Scanner.
type Option func(*Scanner)

// WithKinds limits a Scanner to the given kinds.
func WithKinds(kinds ...Kind) Option {
	return func(s *Scanner) {
		s.kinds = map[Kind]bool{}
		for _, k := range kinds {
			s.kinds[k] = true
		}
	}
}

// WithThreshold sets the lowest score a finding must have.
func WithThreshold(t float64) Option { return func(s *Scanner) { s.threshold = t } }

// WithStrictNumbers tells numbers of code and data from values of people
// where a value has no check digit or a weak one (mobile, phone and card
// numbers): it finds none in a decimal (3.6222020200112233445), a + inside
// a word (host+12345678), a + number of a length its country's fixed-length
// plan does not allow (+253402300799), a North American toll-free or
// fictional number, and lowers the score of a power of two, a Go constant
// and a number inside a row of plain numbers (see numberNoise).
//
// It is for inventories of files (hegui pii scan, the delivery's pii
// stage), where a false finding fails a gate. A masker must not miss a
// value: logs and responses keep the default, which masks these too.
func WithStrictNumbers() Option { return func(s *Scanner) { s.strict = true } }

// NewScanner returns a Scanner for every kind, DefaultThreshold, unless
// options say otherwise.
func NewScanner(opts ...Option) *Scanner {
	s := &Scanner{threshold: DefaultThreshold}
	for _, o := range opts {
		o(s)
	}
	if s.kinds == nil {
		s.kinds = map[Kind]bool{}
		for _, k := range Kinds {
			s.kinds[k] = true
		}
	}
	return s
}

// maxGroups bounds how many space- or hyphen-separated groups of
// characters are read as one value (a card written 4-4-4-4-3, an IBAN in
// groups of four).
const maxGroups = 9

// Find returns the personal information in text, in order and not
// overlapping. Offsets are bytes; text need not be valid UTF-8.
func (s *Scanner) Find(text string) []Finding {
	var out []Finding
	emails := s.findEmails(text)
	next := 0 // the next email
	for i := 0; i < len(text); {
		limit := len(text)
		if next < len(emails) {
			if i >= emails[next].Start {
				out = append(out, emails[next])
				i = emails[next].End
				next++
				continue
			}
			limit = emails[next].Start
		}
		c := text[i]
		if isAlnum(c) || c == '+' && i+1 < limit && isDigit(text[i+1]) && (!s.strict || i == 0 || !operandEnd(text[i-1])) {
			i = s.token(text, i, limit, &out)
			continue
		}
		i++
	}
	return out
}

// token reads the value that may begin at text[i] (a letter or digit, or
// a + and a digit), records what it is, and returns where scanning goes on.
func (s *Scanner) token(text string, i, limit int, out *[]Finding) int {
	start := i
	plus := text[i] == '+'
	if plus {
		i++
	}
	j := i
	punct := -1 // the last . or : in the token
	for j < limit {
		c := text[j]
		if c == '.' || c == ':' {
			punct = j
		} else if !isAlnum(c) {
			break
		}
		j++
	}
	end := j
	for end > i && (text[end-1] == '.' || text[end-1] == ':') {
		end--
	}
	tok := text[i:end]
	if punct >= 0 && punct < end {
		if f, ok := s.ip(text, i, end); ok {
			*out = append(*out, f)
			return j
		}
		// Not an address: each run of letters and digits on its own
		// (an ID after "ID:", a number before a full stop), but not the
		// digits of a decimal number (3.1415926535897932).
		for a := i; a < end; {
			b := a
			for b < end && isAlnum(text[b]) {
				b++
			}
			if b-a >= 5 && !(s.strict && decimalPart(text, a, b)) {
				if f, ok := s.classify(text, a, b, text[a:b], false, nil); ok {
					*out = append(*out, f)
				}
			}
			a = b + 1
		}
		return j
	}
	// A value may be written in groups: 138 1234 5678, 6222-0210-...
	groups := [maxGroups][2]int{{i, end}}
	n := 1
	for k := end; n < maxGroups && k+1 < limit && (text[k] == ' ' || text[k] == '-') && isAlnum(text[k+1]); n++ {
		m := k + 1
		for m < limit && isAlnum(text[m]) {
			m++
		}
		if m < limit && (text[m] == '.' || text[m] == ':') && m+1 < limit && isAlnum(text[m+1]) {
			break // the next group is the start of another token (an address)
		}
		groups[n] = [2]int{k + 1, m}
		k = m
	}
	lo, hi := joinedLengths(text[i:end], plus)
	total := 0
	for g := range n {
		total += groups[g][1] - groups[g][0]
	}
	for g := n; g >= 2; g-- {
		size := total
		total -= groups[g-1][1] - groups[g-1][0]
		if size < lo || size > hi {
			continue
		}
		v, ok := joinGroups(text, groups[:g], plus)
		if !ok {
			continue
		}
		var shape [maxGroups]int
		for k := range g {
			shape[k] = groups[k][1] - groups[k][0]
		}
		if f, ok := s.classify(text, start, groups[g-1][1], v, plus, shape[:g]); ok {
			*out = append(*out, f)
			return groups[g-1][1]
		}
	}
	if len(tok) < 5 && !plus {
		return j // shorter than any value of any kind
	}
	if f, ok := s.classify(text, start, end, tok, plus, nil); ok {
		*out = append(*out, f)
		// A plate's Chinese suffix (粤Z1234港) belongs to it.
		return max(j, f.End)
	}
	return j
}

// joinedLengths bounds the length of a value written in groups whose first
// group is first: a phone number after a + (8–15 digits), a mobile, card
// or ID number (11–19 digits), an IBAN (15–34 characters, two letters
// first). Nothing else is read across groups.
func joinedLengths(first string, plus bool) (lo, hi int) {
	switch {
	case plus:
		return 8, 15
	case isDigits(first):
		return 11, 19
	case len(first) >= 4 && first[0] >= 'A' && first[0] <= 'Z' && first[1] >= 'A' && first[1] <= 'Z':
		return 15, 34
	}
	return 1, 0
}

// joinGroups joins groups of characters into one value, if their shape
// can be one: every group but the last of three characters or more
// (after a +, a phone number's groups may be of any length), 34
// characters at most.
func joinGroups(text string, groups [][2]int, plus bool) (string, bool) {
	var b strings.Builder
	for i, g := range groups {
		if i < len(groups)-1 && g[1]-g[0] < 3 && !plus {
			return "", false
		}
		b.WriteString(text[g[0]:g[1]])
	}
	if b.Len() > 34 {
		return "", false
	}
	return b.String(), true
}

// classify says what v, found at text[start:end], is: the kind whose
// score, context included, is highest and reaches the threshold. shape
// are the lengths of the groups v was written in, nil if one.
func (s *Scanner) classify(text string, start, end int, v string, plus bool, shape []int) (Finding, bool) {
	var best Finding
	found := false
	grouped := shape != nil
	var win window // made when a kind needs it, for its span
	winStart, winEnd := -1, -1
	noise := -1 // whether v looks like a number in code or data, not a value (computed once)
	add := func(k Kind, base float64, checked bool, detail string, start, end int) {
		if s.strict && weak(k) && s.kinds[k] {
			if noise < 0 {
				noise = 0
				if numberNoise(text, start, end, v) {
					noise = 1
				}
			}
			if noise == 1 {
				base -= noisePenalty
			}
		}
		if !s.kinds[k] || grouped && !plus && !shapeFits(k, shape) || base+contextBoost < s.threshold || found && base+contextBoost <= best.Score {
			return
		}
		if start != winStart || end != winEnd {
			win, winStart, winEnd = newWindow(text, start, end), start, end
		}
		score := min(max(base+win.score(k), 0), 1)
		if score < s.threshold || found && score <= best.Score {
			return
		}
		best = Finding{Kind: k, Start: start, End: end, Value: text[start:end], Score: score, Checked: checked, Detail: detail}
		found = true
	}
	n := len(v)
	digits := isDigits(v)
	if plus {
		if digits && n >= 8 && n <= 15 {
			if cc := countryCode(v); cc > 0 {
				if v[:2] == "86" && validMobile(v[2:]) {
					add(Mobile, 0.6, false, "", start, end)
				} else if !s.strict || !nobodysNANP(v) {
					base := 0.55
					if s.strict {
						// A plan of fixed length decides; elsewhere a + and
						// one run of digits (+9876543210) is as likely a
						// signed number as a phone number, unless written
						// in groups or beside a context word.
						switch fixed, ok := phoneLength(v, cc); {
						case fixed && !ok:
							base = 0
						case !fixed && !grouped:
							base = 0.45
						}
					}
					add(Phone, base, false, "+"+v[:cc], start, end)
				}
			}
		}
		return best, found
	}
	switch {
	case n == 18 && ValidIDCard(v):
		add(IDCard, 0.95, true, idDetail(v), start, end)
	case n == 15 && validLegacyID(v):
		add(IDCard, 0.4, false, "legacy 15-digit", start, end)
	}
	if n == 18 && ValidUSCC(v) {
		base := 0.9
		if digits {
			base = 0.45 // one 18-digit number in 31 passes the check by chance
		}
		add(USCC, base, true, "", start, end)
	}
	if digits {
		switch {
		case validMobile(v):
			add(Mobile, 0.6, false, "", start, end)
		case n == 13 && v[:2] == "86" && validMobile(v[2:]), n == 15 && v[:4] == "0086" && validMobile(v[4:]):
			add(Mobile, 0.6, false, "", start, end)
		}
		if n >= 13 && n <= 19 {
			if scheme := cardScheme(v); scheme != "" && Luhn(v) {
				base := 0.6
				switch {
				case n < 15:
					base = 0.4
				case n == 18 && scheme != "unionpay" && idRegion(v) && validDate(atoi(v[6:10]), atoi(v[10:12]), atoi(v[12:14])):
					base = 0.1 // an ID number with a mistyped check character, far more likely than a card
				case scheme == "unionpay":
					base = 0.7
				}
				add(BankCard, base, true, scheme, start, end)
			}
		}
	}
	if grouped {
		if n >= 15 && ValidIBAN(v) {
			add(IBAN, 0.9, true, v[:2], start, end)
		}
		return best, found
	}
	if series := passportSeries(v); series != "" {
		base := 0.3
		if series == "PRC ordinary (e-passport)" {
			base = 0.45
		}
		add(Passport, base, false, series, start, end)
	}
	if kind := permitKind(v); kind != "" {
		add(TravelPermit, 0.3, false, kind, start, end)
	}
	if n >= 15 && ValidIBAN(v) {
		add(IBAN, 0.9, true, v[:2], start, end)
	}
	if r, size := utf8.DecodeLastRuneInString(text[:start]); size > 1 && strings.ContainsRune(plateProvinces, r) && n >= 5 && n <= 7 {
		pend := end
		suffix := false
		if n == 5 {
			if r2, size2 := utf8.DecodeRuneInString(text[end:]); strings.ContainsRune("挂学警港澳", r2) {
				suffix, pend = true, end+size2
			}
		}
		if validPlate(v, suffix) {
			add(Plate, 0.6, false, "", start-size, pend)
		}
	}
	return best, found
}

// shapeFits reports whether a value of kind k is written in groups of
// these lengths: a mobile number 3-4-4, 3-8 or 7-4; an ID number 6-8-4; a
// card or an IBAN in fours (the last group shorter), a card also 4-6-5 or
// 4-6-4. A date and a time beside a number are not one.
func shapeFits(k Kind, shape []int) bool {
	fours := func() bool {
		for i, n := range shape {
			if n != 4 && (i < len(shape)-1 || n > 4) {
				return false
			}
		}
		return true
	}
	is := func(want ...int) bool { return slices.Equal(shape, want) }
	switch k {
	case Mobile:
		return is(3, 4, 4) || is(3, 8) || is(7, 4)
	case IDCard:
		return is(6, 8, 4)
	case BankCard:
		return fours() || is(4, 6, 5) || is(4, 6, 4)
	case IBAN:
		return fours()
	}
	return false
}

// ip records an IPv4 or IPv6 address (with a port, the address) at
// text[i:end]. Public addresses are personal data when they can be tied
// to a person; private and loopback ones rarely are, so they score below
// the default threshold.
func (s *Scanner) ip(text string, i, end int) (Finding, bool) {
	tok := text[i:end]
	var addr netip.Addr
	colons := strings.Count(tok, ":")
	switch {
	case colons >= 2:
		a, err := netip.ParseAddr(tok)
		if err != nil {
			return Finding{}, false
		}
		addr = a
	case strings.Count(tok, ".") == 3:
		host := tok
		if colons == 1 {
			ap, err := netip.ParseAddrPort(tok)
			if err != nil {
				return Finding{}, false
			}
			host = tok[:strings.IndexByte(tok, ':')]
			addr = ap.Addr()
		} else {
			a, err := netip.ParseAddr(tok)
			if err != nil {
				return Finding{}, false
			}
			addr = a
		}
		end = i + len(host)
	default:
		return Finding{}, false
	}
	if !s.kinds[IP] {
		return Finding{}, false
	}
	base, detail := 0.6, "public"
	switch {
	case addr.IsLoopback() || addr.IsUnspecified() || addr.IsMulticast():
		base, detail = 0.1, "loopback, unspecified or multicast"
	case addr.IsPrivate() || addr.IsLinkLocalUnicast():
		base, detail = 0.4, "private"
	case addr.Is4() && (addr.As4()[3] == 0 || addr.As4()[3] == 255):
		base = 0.35 // a network or broadcast address, or a version: 3.0.2.0
	}
	score := min(max(base+contextScore(text, i, end, IP), 0), 1)
	if score < s.threshold {
		return Finding{}, false
	}
	return Finding{Kind: IP, Start: i, End: end, Value: text[i:end], Score: score, Detail: detail}, true
}

// findEmails returns the e-mail addresses in text, in order. Local parts
// and domains are ASCII (an internationalised domain in its xn-- form).
func (s *Scanner) findEmails(text string) []Finding {
	if !s.kinds[Email] {
		return nil
	}
	var out []Finding
	for off := 0; off < len(text); {
		k := strings.IndexByte(text[off:], '@')
		if k < 0 {
			break
		}
		at := off + k
		l := at
		for l > off && isLocalChar(text[l-1]) {
			l--
		}
		for l < at && text[l] == '.' {
			l++
		}
		r := at + 1
		for r < len(text) && isDomainChar(text[r]) {
			r++
		}
		for r > at+1 && (text[r-1] == '.' || text[r-1] == '-') {
			r--
		}
		if validEmail(text[l:at], text[at+1:r]) {
			base, detail := 0.9, ""
			if reservedDomain(text[at+1 : r]) {
				base, detail = 0.3, "reserved domain (RFC 2606)"
			}
			score := min(max(base+contextScore(text, l, r, Email), 0), 1)
			if score >= s.threshold {
				out = append(out, Finding{Kind: Email, Start: l, End: r, Value: text[l:r], Score: score, Detail: detail})
			}
			off = r
			continue
		}
		off = at + 1
	}
	return out
}

// reservedDomain reports whether an address's domain is one RFC 2606
// reserves for examples and tests (example.com, *.test, *.invalid...):
// such an address belongs to nobody.
func reservedDomain(domain string) bool {
	d := lowerASCII(domain)
	for _, suffix := range []string{".test", ".example", ".invalid", ".localhost"} {
		if strings.HasSuffix(d, suffix) {
			return true
		}
	}
	for _, name := range []string{"example.com", "example.org", "example.net"} {
		if d == name || strings.HasSuffix(d, "."+name) {
			return true
		}
	}
	return false
}

func isLocalChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func isDomainChar(c byte) bool { return isAlnum(c) || c == '.' || c == '-' }

// validEmail checks an address's parts as RFC 5321 bounds them: a local
// part of 64 characters at most, no empty dot-separated piece; a domain of
// 253 at most, two labels or more, each 63 at most, not beginning or
// ending with a hyphen, and a top-level label of letters (or xn--).
func validEmail(local, domain string) bool {
	if local == "" || len(local) > 64 || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	if len(domain) > 253 || !strings.Contains(domain, ".") {
		return false
	}
	labels := strings.Split(domain, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
	}
	tld := labels[len(labels)-1]
	if strings.HasPrefix(tld, "xn--") {
		return true
	}
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if !isASCIILetter(tld[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || isASCIILetter(c) }

// noisePenalty lowers the score of a weak kind's value that looks like a
// number in code or data (numberNoise): a context word can still lift it.
const noisePenalty = 0.3

// weak reports whether a kind's values are told apart from other numbers
// by their shape alone, with no check digit or one that one number in ten
// passes: mobile and phone numbers, card numbers, 15-digit legacy IDs.
func weak(k Kind) bool {
	return k == Mobile || k == Phone || k == BankCard
}

// numberNoise reports whether the digits v, found at text[start:end], look
// like a number in code or data rather than a value of a person: a power of
// two (17179869184 is 2^34), a Go constant (uint64(343796328169361)), or
// one inside a row of plain numbers (the counters of /proc/self/mountstats,
// a table of field elements).
func numberNoise(text string, start, end int, v string) bool {
	if isDigits(v) && len(v) <= 19 && v[0] != '0' {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil && n&(n-1) == 0 {
			return true
		}
	}
	if b := text[:start]; strings.HasSuffix(b, "int64(") || strings.HasSuffix(b, "int32(") ||
		strings.HasSuffix(b, "int(") && (len(b) == 4 || !isASCIILetter(b[len(b)-5]) || b[len(b)-5] == 'u') {
		return true // a Go conversion of a constant: uint64(343796328169361)
	}
	return numberRow(text, start, end)
}

// numberRow reports whether text[start:end] sits inside a row of plain
// numbers: a number on either side on its line, past nothing but spaces,
// commas, semicolons, brackets and quotes, one of them five digits or
// more, and neither a value itself (an ID, mobile or card number: a row of
// a users table, or a list of mobiles, is personal data).
func numberRow(text string, start, end int) bool {
	left, right := numberBeside(text, start, -1), numberBeside(text, end, 1)
	if left == "" || right == "" || len(left) < 5 && len(right) < 5 {
		return false
	}
	return !isValue(left) && !isValue(right)
}

// numberBeside returns the plain number nearest to text[at] in direction
// dir (-1 before, 1 after), as numberRow reads it, or "".
func numberBeside(text string, at, dir int) string {
	i := at
	if dir < 0 {
		i--
	}
	for i >= 0 && i < len(text) && strings.IndexByte(" \t,;[](){}\"'", text[i]) >= 0 {
		i += dir
	}
	from := i
	for i >= 0 && i < len(text) && isDigit(text[i]) {
		i += dir
	}
	if i == from {
		return ""
	}
	// A number, not the digits of a word, an address or a decimal.
	if i >= 0 && i < len(text) && (isASCIILetter(text[i]) || text[i] == '.' || text[i] == '@' || text[i] == '-' || text[i] == '_') {
		return ""
	}
	if dir < 0 {
		return text[i+1 : from+1]
	}
	return text[from:i]
}

// isValue reports whether the digits n are an ID, mobile or card number.
func isValue(n string) bool {
	return ValidIDCard(n) || validMobile(n) || len(n) >= 13 && len(n) <= 19 && Luhn(n) && cardScheme(n) != ""
}

// decimalPart reports whether the digits text[a:b] are the integer or
// fractional part of a decimal number (3.14159..., 0.000123).
func decimalPart(text string, a, b int) bool {
	if !isDigits(text[a:b]) {
		return false
	}
	before := a >= 2 && text[a-1] == '.' && isDigit(text[a-2])
	after := b+1 < len(text) && text[b] == '.' && isDigit(text[b+1])
	return before || after
}

// nobodysNANP reports whether v, the digits of a +1 number, is one that
// belongs to no person: toll-free (800, 833, 844, 855, 866, 877, 888),
// fictional (555-0100 to 555-0199) or directory assistance (555-1212).
func nobodysNANP(v string) bool {
	if len(v) != 11 || v[0] != '1' {
		return false
	}
	switch v[1:4] {
	case "800", "833", "844", "855", "866", "877", "888":
		return true
	}
	return v[4:7] == "555" && (v[7:9] == "01" || v[7:] == "1212")
}

// phoneLength reports whether v, an international number whose country
// code has cc digits, is of a country whose plan has one length (ITU-T
// E.164 national plans: +1, +7, +33 and +253 eleven digits, +91 twelve),
// and whether it has that length. A signed constant in code
// (+253402300799, +1257894123) does not.
func phoneLength(v string, cc int) (fixed, ok bool) {
	want := 0
	switch v[:cc] {
	case "1", "7", "33", "253":
		want = 11
	case "91":
		want = 12
	}
	return want != 0, len(v) == want
}

// operandEnd reports whether c can end an operand, so that a + after it
// adds (e[0]+1295307597, host+12345678) rather than begins a phone number.
func operandEnd(c byte) bool { return isAlnum(c) || c == ')' || c == ']' || c == '}' || c == '_' }
