package keys

import (
	"context"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// TestBadPublicKeys: what is not a public key is refused with a message
// that says what the input is, when hegui knows, and never with the ASN.1
// decoder's own words.
func TestBadPublicKeys(t *testing.T) {
	priv, _ := Generate(SM2, nil)
	plain, _ := MarshalPrivateKeyPEM(priv)
	prot := DefaultProtection(SM2)
	prot.Iterations = testIterations
	enc, _ := EncryptPrivateKeyPEM(priv, []byte("pw"), prot)
	pub, _ := MarshalPublicKeyPEM(priv.Public())
	plainDER, _ := pem.Decode(plain)
	encDER, _ := pem.Decode(enc)
	sec1DER, err := smx509.MarshalECPrivateKey(&priv.(*sm2.PrivateKey).PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	sec1 := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d}})
	sec1 = append(sec1, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER})...)
	tmpl := &smx509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	certDER, err := smx509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	csrDER, err := smx509.CreateCertificateRequest(rand.Reader, &smx509.CertificateRequest{Subject: pkix.Name{CommonName: "t"}}, priv)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"blank", []byte(" \n\n"), "empty file"},
		{"text", []byte("hello world\n"), `not a public key: expected a PEM "PUBLIC KEY" block`},
		{"garbage DER", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, "not a public key"},
		{"truncated PEM", pub[:len(pub)/2], "no public key found"},
		{"truncated SPKI", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{0x30, 0x10, 0x30}}), "malformed PUBLIC KEY block"},
		{"private key PEM", plain, "this is a private key, not a public key"},
		{"encrypted private key PEM", enc, "this is a private key"},
		{"SEC 1 key after EC PARAMETERS", sec1, "this is a private key"},
		{"private key DER", plainDER.Bytes, "this is a private key"},
		{"encrypted private key DER", encDER.Bytes, "this is a private key"},
		{"SEC 1 DER", sec1DER, "this is a private key"},
		{"certificate PEM", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}), "certificate, not a public key"},
		{"certificate DER", certDER, "certificate, not a public key"},
		{"request PEM", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}), "certificate request, not a public key"},
		{"request DER", csrDER, "certificate request, not a public key"},
		{"other PEM", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{0x30, 0x00}}), `unexpected PEM block "X509 CRL"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePublicKey(c.data)
			if err == nil {
				t.Fatal("parsed without error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to mention %q", err, c.want)
			}
			for _, leak := range []string{"asn1:", "sequence truncated", "structure error", "\n"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q shows %q", err, leak)
				}
			}
		})
	}
	if _, err := ParsePublicKey(certDER); !errors.Is(err, ErrIsCertificate) {
		t.Errorf("certificate: err = %v, want ErrIsCertificate", err)
	}
	for _, data := range [][]byte{plain, enc, sec1, sec1DER} {
		if _, err := ParsePublicKey(data); !errors.Is(err, ErrIsPrivateKey) {
			t.Errorf("private key: err = %v, want ErrIsPrivateKey", err)
		}
	}
	der, _ := pem.Decode(pub)
	if _, err := ParsePublicKey(der.Bytes); err != nil {
		t.Errorf("DER public key: %v", err)
	}
}

// TestEncryptPrivateKeyPEMContext: the encryption gives up when its
// context ends, also while PBKDF2 is running, instead of returning a key.
func TestEncryptPrivateKeyPEMContext(t *testing.T) {
	priv, _ := Generate(ECDSAP256, nil)
	prot := DefaultProtection(ECDSAP256)
	prot.Iterations = testIterations
	if pem, err := EncryptPrivateKeyPEMContext(context.Background(), priv, []byte("pw"), prot); err != nil {
		t.Fatal(err)
	} else if _, err := ParsePrivateKey(pem, password("pw")); err != nil {
		t.Fatal(err)
	}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := EncryptPrivateKeyPEMContext(cancelled, priv, []byte("pw"), prot); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before: err = %v", err)
	}

	// MaxIterations take seconds; the context ends long before.
	prot.Iterations = MaxIterations
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := EncryptPrivateKeyPEMContext(ctx, priv, []byte("pw"), prot); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled during the derivation: err = %v", err)
	}
}
