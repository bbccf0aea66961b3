package mask

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/corpus.jsonl from the generator")

// corpusFile is the labelled corpus: one JSON object a line, a text and
// the personal information in it. Every value is synthetic: generated
// with the validators' own algorithms, or broken on purpose.
const corpusFile = "testdata/corpus.jsonl"

// corpusLine is one labelled text.
type corpusLine struct {
	Text   string  `json:"text"`
	Labels []label `json:"labels"`
}

type label struct {
	Kind  Kind   `json:"kind"`
	Value string `json:"value"`
}

// TestCorpus measures precision and recall per kind on the labelled
// corpus and holds each to a floor.
func TestCorpus(t *testing.T) {
	if *updateCorpus {
		writeCorpus(t)
	}
	f, err := os.Open(corpusFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := NewScanner()
	type counts struct{ tp, fp, fn int }
	per := map[Kind]*counts{}
	for _, k := range Kinds {
		per[k] = &counts{}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		var l corpusLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		lines++
		want := slices.Clone(l.Labels)
		for _, f := range s.Find(l.Text) {
			i := slices.Index(want, label{f.Kind, f.Value})
			if i < 0 {
				per[f.Kind].fp++
				if testing.Verbose() {
					t.Logf("false positive %s %q in %q", f.Kind, f.Value, l.Text)
				}
				continue
			}
			per[f.Kind].tp++
			want = slices.Delete(want, i, i+1)
		}
		for _, w := range want {
			per[w.Kind].fn++
			if testing.Verbose() {
				t.Logf("missed %s %q in %q", w.Kind, w.Value, l.Text)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d lines", lines)
	for _, k := range Kinds {
		c := per[k]
		precision := float64(c.tp) / float64(max(c.tp+c.fp, 1))
		recall := float64(c.tp) / float64(max(c.tp+c.fn, 1))
		t.Logf("%-9s precision %.3f recall %.3f (%d found, %d false, %d missed)", k, precision, recall, c.tp, c.fp, c.fn)
		if c.tp+c.fn == 0 {
			t.Errorf("%s: the corpus has none", k)
		}
		if precision < 0.95 || recall < 0.95 {
			t.Errorf("%s: precision %.3f, recall %.3f; want 0.95 or more", k, precision, recall)
		}
	}
}

// gen makes synthetic values, valid and broken.
type gen struct{ r *rand.Rand }

func (g gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g gen) pick(options ...string) string { return options[g.r.IntN(len(options))] }

var provinces = []string{"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}

// idCard is a valid ID number; broken, one whose check character is wrong.
func (g gen) idCard(broken bool) string {
	body := provinces[g.r.IntN(len(provinces))] + g.digits(4) +
		fmt.Sprintf("%04d%02d%02d", 1940+g.r.IntN(80), 1+g.r.IntN(12), 1+g.r.IntN(28)) + g.digits(3)
	c := IDCheck(body)
	if broken {
		c = "0123456789X"[(strings.IndexByte("0123456789X", c)+1+g.r.IntN(10))%11]
	}
	s := body + string(c)
	if c == 'X' && g.r.IntN(3) == 0 {
		s = body + "x"
	}
	return s
}

func (g gen) mobile(broken bool) string {
	if broken {
		return g.pick("194", "154", "142", "120", "111") + g.digits(8)
	}
	return g.pick("130", "135", "138", "139", "147", "150", "158", "166", "172", "177", "180", "186", "189", "191", "199") + g.digits(8)
}

func (g gen) uscc(broken bool) string {
	body := g.pick("91", "92", "12", "52") + provinces[g.r.IntN(len(provinces))] + g.digits(4)
	for range 9 {
		body += string(usccAlphabet[g.r.IntN(len(usccAlphabet))])
	}
	c := USCCCheck(body)
	if broken {
		c = usccAlphabet[(strings.IndexByte(usccAlphabet, c)+1+g.r.IntN(29))%31]
	}
	return body + string(c)
}

func (g gen) card(broken bool) string {
	prefix, n := "62", 16+g.r.IntN(4)
	switch g.r.IntN(4) {
	case 1:
		prefix, n = "4", 16
	case 2:
		prefix, n = g.pick("51", "53", "55"), 16
	}
	body := prefix + g.digits(n-len(prefix)-1)
	for c := '0'; c <= '9'; c++ {
		if Luhn(body+string(c)) != broken {
			return body + string(c)
		}
	}
	return body + "0"
}

func (g gen) iban(broken bool) string {
	country, bban := "DE", g.digits(18)
	if g.r.IntN(2) == 0 {
		country, bban = "GB", "NWBK"+g.digits(14)
	}
	for check := 2; check < 100; check++ {
		s := fmt.Sprintf("%s%02d%s", country, check, bban)
		if ValidIBAN(s) != broken {
			return s
		}
	}
	return ""
}

// writeCorpus generates the corpus: sentences in Chinese and English,
// JSON and log lines holding valid values, broken values and look-alikes
// (order numbers, timestamps, versions, hashes) that must not be found.
func writeCorpus(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(2026, 12))}
	var lines []corpusLine
	add := func(text string, labels ...label) {
		if labels == nil {
			labels = []label{}
		}
		lines = append(lines, corpusLine{text, labels})
	}
	for i := range 400 {
		id, badID := g.idCard(false), g.idCard(true)
		mob, badMob := g.mobile(false), g.mobile(true)
		code, badCode := g.uscc(false), g.uscc(true)
		card, badCard := g.card(false), g.card(true)
		iban, badIBAN := g.iban(false), g.iban(true)
		order := g.pick("2026", "2025") + g.digits(14)
		switch i % 10 {
		case 0:
			add(fmt.Sprintf("客户%s的身份证号码是%s，联系电话%s。", g.pick("张三", "李四", "王五"), id, mob), label{IDCard, id}, label{Mobile, mob})
		case 1:
			add(fmt.Sprintf("Customer ID card %s, mobile %s, order %s.", badID, badMob, order))
		case 2:
			add(fmt.Sprintf(`{"user":{"idNo":"%s","phone":"%s","email":"user%d@corp-mail.cn"},"orderNo":"%s"}`, id, mob, i, order),
				label{IDCard, id}, label{Mobile, mob}, label{Email, fmt.Sprintf("user%d@corp-mail.cn", i)})
		case 3:
			add(fmt.Sprintf("2026-12-07 10:%02d:00 INFO pay card=%s amount=99.00 trace=%s", i%60, card, g.digits(16)), label{BankCard, card})
		case 4:
			add(fmt.Sprintf("2026-12-07 10:%02d:00 WARN card check failed: %s (Luhn), client %d.%d.%d.%d", i%60, badCard, 1+g.r.IntN(9), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(250)),
				label{IP, ""})
		case 5:
			add(fmt.Sprintf("企业统一社会信用代码：%s；错误代码：%s", code, badCode), label{USCC, code})
		case 6:
			p := "E" + string("ABCDEFGHJKLMNPQRSTUVWXYZ"[g.r.IntN(24)]) + g.digits(7)
			add(fmt.Sprintf("护照号码 %s，港澳通行证 C%s，车牌 粤B%s", p, g.digits(8), g.digits(5)), label{Passport, p}, label{TravelPermit, ""}, label{Plate, ""})
		case 7:
			add(fmt.Sprintf("IBAN %s, wrong IBAN %s, call +44 20 %s %s", iban, badIBAN, g.digits(4), g.digits(4)), label{IBAN, iban}, label{Phone, ""})
		case 8:
			add(fmt.Sprintf("version 1.%d.%d build %s sha %s at %d:%02d:%02d", g.r.IntN(30), g.r.IntN(30), g.digits(11), g.digits(18), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60)))
		case 9:
			add(fmt.Sprintf("订单号 %s 已发货，物流单号 %s，联系人手机 %s", g.digits(11), order, mob), label{Mobile, mob})
		}
	}
	// Labels whose value is only known once the text is written: the
	// address, the permit, the plate and the phone, found by position.
	for i := range lines {
		l := &lines[i]
		for j := range l.Labels {
			if l.Labels[j].Value != "" {
				continue
			}
			switch l.Labels[j].Kind {
			case IP:
				k := strings.LastIndex(l.Text, "client ")
				l.Labels[j].Value = l.Text[k+len("client "):]
			case TravelPermit:
				k := strings.Index(l.Text, "港澳通行证 ")
				l.Labels[j].Value = l.Text[k+len("港澳通行证 ") : k+len("港澳通行证 ")+9]
			case Plate:
				k := strings.Index(l.Text, "粤B")
				l.Labels[j].Value = l.Text[k:]
			case Phone:
				k := strings.Index(l.Text, "+44")
				l.Labels[j].Value = l.Text[k:]
			}
		}
	}
	out, err := os.Create(corpusFile)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(out)
	for _, l := range lines {
		data, _ := json.Marshal(l)
		w.Write(data)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
