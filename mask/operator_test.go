package mask

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"hegui.dev/hegui/internal/peertest"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"身份证11010519491231002X，手机13812345678": "身份证110***********002X，手机138****5678",
		"卡号 6222 0210 0112 3456 789":          "卡号 6222 02** **** ***6 789",
		"邮箱 zhang.san@hegui.dev":              "邮箱 z********@hegui.dev",
		"client 203.0.113.7 connected":        "client 203.0.113.* connected",
		"ip 2001:db8:1:2::1 end":              "ip 2001:db8:1::/48 end",
		"车牌京A12345":                           "车牌京A****5",
		"nothing here":                        "nothing here",
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskRunes(t *testing.T) {
	// Characters, not bytes: a Chinese name stays valid UTF-8.
	if got := maskRunes("张三丰", 1, 0, '*'); got != "张**" {
		t.Fatalf("maskRunes = %q", got)
	}
	// Too short to keep anything: all masked.
	if got := maskRunes("ab", 1, 1, '*'); got != "**" {
		t.Fatalf("maskRunes = %q", got)
	}
	if got, _ := (Mask{KeepFirst: 2, Char: '#'}).Apply(Finding{Kind: Passport, Value: "EA1234567"}); got != "EA#######" {
		t.Fatalf("Mask = %q", got)
	}
}

func TestOperators(t *testing.T) {
	text := "手机13812345678，身份证11010519491231002X"
	key := bytes.Repeat([]byte{7}, 16)
	pseudo, err := NewPseudonym(key)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := NewEncrypt(key)
	if err != nil {
		t.Fatal(err)
	}
	vault := &MemoryVault{}
	r := &Redactor{Operators: map[Kind]Operator{Mobile: pseudo, IDCard: enc}}
	out, fs, err := r.Redact(text)
	if err != nil || len(fs) != 2 {
		t.Fatalf("Redact: %v, %d findings", err, len(fs))
	}
	if !strings.HasPrefix(out, "手机mobile_") || !strings.Contains(out, "身份证sm4:idcard:") {
		t.Fatalf("Redact = %q", out)
	}
	// The same number, written with separators, gets the same pseudonym;
	// another key, another pseudonym.
	p1, _ := pseudo.Apply(Finding{Kind: Mobile, Value: "13812345678"})
	p2, _ := pseudo.Apply(Finding{Kind: Mobile, Value: "138-1234-5678"})
	other, _ := NewPseudonym(bytes.Repeat([]byte{8}, 16))
	p3, _ := other.Apply(Finding{Kind: Mobile, Value: "13812345678"})
	if p1 != p2 || p1 == p3 {
		t.Fatalf("pseudonyms %s %s %s", p1, p2, p3)
	}
	if _, err := NewPseudonym([]byte("short")); err == nil {
		t.Fatal("a 5-byte pseudonym key accepted")
	}
	// Encryption round-trips, and only with the key.
	c := out[strings.Index(out, "sm4:"):]
	kind, v, err := Decrypt(key, c)
	if err != nil || kind != IDCard || v != "11010519491231002X" {
		t.Fatalf("Decrypt = %s %q %v", kind, v, err)
	}
	if _, _, err := Decrypt(bytes.Repeat([]byte{9}, 16), c); err == nil {
		t.Fatal("decrypted with another key")
	}
	if _, _, err := Decrypt(key, strings.Replace(c, "sm4:idcard:", "sm4:mobile:", 1)); err == nil {
		t.Fatal("decrypted as another kind")
	}
	for _, bad := range []string{"", "sm4:", "sm4:idcard:!!", "sm4:idcard:AAAA"} {
		if _, _, err := Decrypt(key, bad); err == nil {
			t.Fatalf("Decrypt(%q) succeeded", bad)
		}
	}
	// Tokens are stable and reversible.
	tok := Tokenize{Vault: vault}
	t1, _ := tok.Apply(Finding{Kind: Mobile, Value: "13812345678"})
	t2, _ := tok.Apply(Finding{Kind: Mobile, Value: "13812345678"})
	if v, err := vault.Value(t1); t1 != t2 || err != nil || v != "13812345678" {
		t.Fatalf("tokens %s %s -> %q %v", t1, t2, v, err)
	}
	if _, err := vault.Value("tok_x"); err != ErrUnknownToken {
		t.Fatalf("unknown token: %v", err)
	}
	if got, _ := (Replace{}).Apply(Finding{Kind: IDCard}); got != "<IDCARD>" {
		t.Fatalf("Replace = %q", got)
	}
	if got, _, _ := (&Redactor{Operators: map[Kind]Operator{Mobile: Redact}}).Redact("手机13812345678。"); got != "手机。" {
		t.Fatalf("Redact = %q", got)
	}
}

// TestPseudonymOpenSSL checks the pseudonym against OpenSSL's HMAC-SM3 of
// the same kind, NUL and value.
func TestPseudonymOpenSSL(t *testing.T) {
	key := []byte("a key of 16 byte")
	p, err := NewPseudonym(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "msg"), []byte("idcard\x0011010519491231002X"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := peertest.OpenSSL(t, dir, "dgst", "-sm3", "-hmac", string(key), "msg")
	got, _ := p.Apply(Finding{Kind: IDCard, Value: "110105 19491231 002x"}) // separators and case do not count
	_, digest, _ := strings.Cut(strings.TrimSpace(out), "= ")
	if want := "idcard_" + digest[:16]; got != want {
		t.Fatalf("pseudonym %s, OpenSSL's HMAC-SM3 gives %s", got, want)
	}
}

// FuzzFind checks what Find promises of any text: findings in order, not
// overlapping, each its text's; and String keeps valid UTF-8 valid.
func FuzzFind(f *testing.F) {
	for _, s := range []string{
		"身份证11010519491231002X，手机13812345678", "+86 138 1234 5678", "a@b.cn", "2001:db8::1", "京A12345",
		"DE89 3704 0044 0532 0130 00", "6222 0210 0112 3456 789", "1.2.3.4:80", "粤Z1234港", "@@..--",
	} {
		f.Add(s)
	}
	s := NewScanner(WithThreshold(0))
	f.Fuzz(func(t *testing.T, text string) {
		last := 0
		for _, fd := range s.Find(text) {
			if fd.Start < last || fd.End <= fd.Start || fd.End > len(text) || text[fd.Start:fd.End] != fd.Value || fd.Score < 0 || fd.Score > 1 {
				t.Fatalf("finding %+v in %q", fd, text)
			}
			last = fd.End
		}
		if utf8.ValidString(text) && !utf8.ValidString(String(text)) {
			t.Fatalf("String(%q) is not valid UTF-8", text)
		}
	})
}
