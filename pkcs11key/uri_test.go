package pkcs11key

import (
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	u, err := ParseURI("pkcs11:token=My%20Token;object=release;id=%01%02;slot-id=3?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234&x-sm2-mechanism=0x80000101")
	if err != nil {
		t.Fatal(err)
	}
	if u.Token != "My Token" || u.Object != "release" || string(u.ID) != "\x01\x02" || u.SlotID == nil || *u.SlotID != 3 || u.ModulePath != "/usr/lib/softhsm/libsofthsm2.so" || u.SM2Mechanism != 0x80000101 {
		t.Errorf("parsed %+v", u)
	}
	if pin, err := u.pin(Config{PIN: "other"}); err != nil || pin != "1234" {
		t.Errorf("pin = %q, %v", pin, err)
	}
	for _, bad := range []struct{ uri, want string }{
		{"pkcs12:token=x;object=y", "pkcs11:"},
		{"pkcs11:token=x", "object=LABEL or id"},
		{"pkcs11:token=x;object=y;type=cert", "type=private"},
		{"pkcs11:token;object=y", "malformed"},
		{"pkcs11:object=y;slot-id=x", "slot-id"},
		{"pkcs11:object=y?module-path=relative.so", "absolute"},
		{"pkcs11:object=y?pin-value=1&pin-source=file:/p", "pin-source and pin-value"},
		{"pkcs11:object=y?x-sm2-mechanism=banana", "x-sm2-mechanism"},
	} {
		_, err := ParseURI(bad.uri)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseURI(%q): err = %v, want %q", bad.uri, err, bad.want)
		}
	}
}

// FuzzParseURI: URIs come from configuration files and command lines.
func FuzzParseURI(f *testing.F) {
	f.Add("pkcs11:token=t;object=o?module-path=/m.so&pin-source=file:/p")
	f.Add("pkcs11:id=%01%ff;slot-id=0")
	f.Fuzz(func(t *testing.T, s string) {
		if u, err := ParseURI(s); err == nil && u.Object == "" && len(u.ID) == 0 {
			t.Fatalf("accepted %q without a key name", s)
		}
	})
}
