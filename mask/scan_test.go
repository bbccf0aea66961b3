package mask

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// found is a finding as the tests write it: the kind and the text.
func found(text string, s *Scanner) []string {
	var out []string
	for _, f := range s.Find(text) {
		out = append(out, string(f.Kind)+":"+f.Value)
	}
	return out
}

func TestFind(t *testing.T) {
	s := NewScanner()
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"身份证号：11010519491231002x，手机13812345678。", []string{"idcard:11010519491231002x", "mobile:13812345678"}},
		{"user 13812345678 login", []string{"mobile:13812345678"}},                   // no context word needed
		{"call +86 138 1234 5678 now", []string{"mobile:+86 138 1234 5678"}},         // grouped, with the country code
		{"联系电话 138-1234-5678", []string{"mobile:138-1234-5678"}},                     // hyphens
		{"订单号 13812345678", nil},                                                     // an order number
		{"卡号 6222 0210 0112 3456 789", []string{"bankcard:6222 0210 0112 3456 789"}}, // groups of four
		{"card 4111111111111111 exp 12/29", []string{"bankcard:4111111111111111"}},   // Visa
		{"no 4111111111111112 here", nil},                                            // Luhn fails
		{"统一社会信用代码 91350100M000100Y43", []string{"uscc:91350100M000100Y43"}},         // GB 32100
		{"护照号码 EA1234567", []string{"passport:EA1234567"}},                           // context
		{"code G12345678 here", nil},                                                 // no context: a code
		{"passport G12345678", []string{"passport:G12345678"}},                       // context
		{"回乡证 H12345678", []string{"permit:H12345678"}},                              // context
		{"车牌京A12345违停", []string{"plate:京A12345"}},                                   // plate
		{"粤Z1234港", []string{"plate:粤Z1234港"}},                                       // suffix
		{"沪AD12345", []string{"plate:沪AD12345"}},                                     // new energy
		{"mail zhang.san@hegui.dev.", []string{"email:zhang.san@hegui.dev"}},         // trailing full stop
		{"a@b and x..y@hegui.dev", nil},
		{"test user@example.com, ci@build.test", nil},                                      // reserved for examples                                                  // not addresses
		{"client 203.0.113.7:443 connected", []string{"ip:203.0.113.7"}},                   // public, a port
		{"listen 127.0.0.1 and 10.0.0.1", nil},                                             // loopback, private
		{"ip 2001:db8::1 end", []string{"ip:2001:db8::1"}},                                 // no spaces taken
		{"at 12:30:45 or 1.2.3", nil},                                                      // times, versions
		{"IBAN DE89 3704 0044 0532 0130 00", []string{"iban:DE89 3704 0044 0532 0130 00"}}, // grouped
		{"pay GB29NWBK60161331926819", []string{"iban:GB29NWBK60161331926819"}},            // compact
		{"tel +44 20 7183 8750", []string{"phone:+44 20 7183 8750"}},                       // E.164
		{"ID:110105194912310021", nil},                                                     // bad check
		{"abc13812345678", nil},                                                            // inside a word
		{"居住证 830000198511110027", []string{"idcard:830000198511110027"}},                  // Taiwan resident
		{"身份证 110105491231002", []string{"idcard:110105491231002"}},                        // legacy, context
		{"serial 110105491231002", nil},                                                    // legacy, no context
	} {
		got := found(tc.text, s)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("Find(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestFindKindsAndThreshold(t *testing.T) {
	text := "手机13812345678 邮箱a.b@hegui.dev"
	if got := found(text, NewScanner(WithKinds(Email))); fmt.Sprint(got) != "[email:a.b@hegui.dev]" {
		t.Fatalf("WithKinds(Email): %q", got)
	}
	if got := found("code G12345678", NewScanner(WithThreshold(0.2))); fmt.Sprint(got) != "[passport:G12345678]" {
		t.Fatalf("a low threshold: %q", got)
	}
}

// TestFindOffsets checks that every finding's offsets are its value's and
// on character boundaries, in order, on a long mixed text.
func TestFindOffsets(t *testing.T) {
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "第%d行：张三，身份证11010519491231002X，手机1381234%04d，邮箱u%d@example.cn；", i, i, i)
	}
	text := b.String()
	fs := NewScanner().Find(text)
	if len(fs) != 600 {
		t.Fatalf("%d findings, want 600", len(fs))
	}
	last := 0
	for _, f := range fs {
		if f.Start < last || text[f.Start:f.End] != f.Value || !utf8.RuneStart(text[f.Start]) || f.End < len(text) && !utf8.RuneStart(text[f.End]) {
			t.Fatalf("finding %+v", f)
		}
		last = f.End
	}
}

// TestFindStrict: WithStrictNumbers passes over numbers of code and data
// found in real repositories' files, and still finds the values of people
// written among numbers; the default scanner (a masker's) finds all of
// them.
func TestFindStrict(t *testing.T) {
	strict, def := NewScanner(WithStrictNumbers()), NewScanner()
	for _, tc := range []struct {
		text string
		want []string // with WithStrictNumbers
	}{
		{"pi = 3.6222020200112233445", nil}, // a decimal's digits
		{"x: org-4747474747474747,bucket-4242424242424242", []string{"bankcard:4747474747474747", "bankcard:4242424242424242"}}, // test cards: the inventory passes over them
		{`pubK: "rekor.sigstore.dev+12345678+AwEB"`, nil},                                                                       // a + inside a word
		{"const maxTimestamp = +253402300799", nil},                                                                             // a signed number
		{"default: 2, 17179869184", nil},                                                                                        // 2^34
		{"xprt: rdma 0 0 15018 508091827 63 19817677255 36702583", nil},                                                         // a row of counters
		{"Element{84926274344903, 365590438845504, 1028470286882429}", nil},                                                     // a list of numbers
		{`uri("x", "tel:+1-816-555-1212")`, nil},                                                                                // fictional
		{"call us: +1 844 726 8826", nil},                                                                                       // toll-free
		{"phone +16506661212", []string{"phone:+16506661212"}},                                                                  // one run, a context word
		{"whitelist: 13812345678, 13912345678", []string{"mobile:13812345678", "mobile:13912345678"}},                           // a list of mobiles
		{"张三,13812345678,110105199003071239", []string{"mobile:13812345678", "idcard:110105199003071239"}},                      // a CSV row
		// Values among numbers (a review's cases, missed by a first version).
		{"user 100234 13812345678 registered", []string{"mobile:13812345678"}},
		{"张三,13812345678,6222020200112233446", []string{"mobile:13812345678", "bankcard:6222020200112233446"}},
		{"北京市海淀区,100020,13812345678", []string{"mobile:13812345678"}},
		{"王五,021-58881234,13812345678", []string{"mobile:13812345678"}},
		{"(100234,'13812345678')", []string{"mobile:13812345678"}},
		{"user_13812345678.jpg", []string{"mobile:13812345678"}},
		{"alice,+14158675309,x", []string{"phone:+14158675309"}},
		{`{"msisdn":"+4915112345678"}`, []string{"phone:+4915112345678"}},
		{"fmt.Print(13812345678)", []string{"mobile:13812345678"}},
		{"tel:+1-415-555-2671", []string{"phone:+1-415-555-2671"}},
		{"e[0]=e[0]+1295307597+this._b|0,e[1]+3545052371", nil},               // minified arithmetic
		{"time.Unix(+9876543210, -1098765432)", nil},                          // a signed constant
		{"+49 151 12345678 is my number", []string{"phone:+49 151 12345678"}}, // groups
	} {
		if got := found(tc.text, strict); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("strict Find(%q) = %q, want %q", tc.text, got, tc.want)
		}
		if len(tc.want) == 0 && len(found(tc.text, def)) == 0 && !strings.Contains(tc.text, "3.6222") {
			t.Errorf("default Find(%q) finds nothing: a masker must mask it", tc.text)
		}
	}
}
