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
		{"pkcs11:token=x;object=y;type=cert", "type=private (signing) and type=secret-key"},
		{"pkcs11:token=x;object=y;type=data", "type=private (signing) and type=secret-key"},
		{"pkcs11:token=x;object=y;type=private;type=private", "type is given twice"},
		{"pkcs11:token=x;object=y;type=%zz", "type"},
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

func TestURIType(t *testing.T) {
	for _, c := range []struct{ uri, want string }{
		{"pkcs11:token=x;object=y", ""},
		{"pkcs11:token=x;type=private;object=y", "private"},
		{"pkcs11:token=x;object=y;type=secret-key?module-path=/m.so", "secret-key"},
		{"pkcs11:type=secret%2Dkey;token=x;object=y", "secret-key"},
	} {
		u, err := ParseURI(c.uri)
		if err != nil {
			t.Errorf("ParseURI(%q): %v", c.uri, err)
			continue
		}
		if u.Type != c.want || u.Token != "x" || u.Object != "y" {
			t.Errorf("ParseURI(%q): type %q, token %q, object %q", c.uri, u.Type, u.Token, u.Object)
		}
	}
	// A key of one kind is not opened as the other.
	for _, c := range []struct{ uri, keyType, want string }{
		{"pkcs11:object=y;type=secret-key", typePrivate, "a signing key (Open) has type=private"},
		{"pkcs11:object=y;type=private", typeSecretKey, "a master key for shred (OpenWrapper) has type=secret-key"},
	} {
		_, err := parseKeyURI(c.uri, c.keyType)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseKeyURI(%q, %s): err = %v, want %q", c.uri, c.keyType, err, c.want)
		}
	}
	for _, keyType := range []string{typePrivate, typeSecretKey} {
		if _, err := parseKeyURI("pkcs11:object=y;type="+keyType, keyType); err != nil {
			t.Errorf("type=%s: %v", keyType, err)
		}
		if _, err := parseKeyURI("pkcs11:object=y", keyType); err != nil {
			t.Errorf("no type, for %s: %v", keyType, err)
		}
	}
}

// FuzzParseURI: URIs come from configuration files and command lines.
func FuzzParseURI(f *testing.F) {
	f.Add("pkcs11:token=t;object=o?module-path=/m.so&pin-source=file:/p")
	f.Add("pkcs11:id=%01%ff;slot-id=0")
	f.Add("pkcs11:token=t;object=o;type=secret-key?pin-value=1")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			return
		}
		if u.Object == "" && len(u.ID) == 0 {
			t.Fatalf("accepted %q without a key name", s)
		}
		if u.Type != "" && u.Type != typePrivate && u.Type != typeSecretKey {
			t.Fatalf("accepted %q with type %q", s, u.Type)
		}
	})
}
