package pki

import (
	"crypto/x509/pkix"
	"testing"

	"hegui.dev/hegui/keys"
)

// FuzzParseCertificates feeds arbitrary bytes to the certificate parser and,
// when they parse, to the describer that `hegui cert inspect` uses.
func FuzzParseCertificates(f *testing.F) {
	for _, alg := range keys.Algorithms {
		key, err := keys.Generate(alg, nil)
		if err != nil {
			f.Fatal(err)
		}
		root, err := CreateRoot(key, Template{Subject: mustName(f, "/C=CN/CN=fuzz root")})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(EncodeCertificates(root))
		f.Add(root.Raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCertificates(data)
		if err != nil {
			return
		}
		for _, c := range certs {
			DescribeCertificate(c)
		}
	})
}

// FuzzParseCSR feeds arbitrary bytes to the certificate request parser.
func FuzzParseCSR(f *testing.F) {
	key, err := keys.Generate(keys.SM2, nil)
	if err != nil {
		f.Fatal(err)
	}
	der, err := CreateCSR(key, Template{Subject: mustName(f, "/CN=fuzz"), DNSNames: []string{"example.cn"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(EncodeCSR(der))
	f.Add(der)
	f.Fuzz(func(t *testing.T, data []byte) {
		csr, err := ParseCSR(data)
		if err != nil {
			return
		}
		csr.CheckSignature()
		DescribeCSR(csr)
	})
}

func mustName(f *testing.F, s string) pkix.Name {
	name, err := ParseSubject(s)
	if err != nil {
		f.Fatal(err)
	}
	return name
}

// FuzzParseSubject: subjects come from command lines and configuration.
func FuzzParseSubject(f *testing.F) {
	f.Add(`/C=CN/ST=Beijing/O=Example\/Lab/CN=Root`)
	f.Fuzz(func(t *testing.T, s string) {
		name, err := ParseSubject(s)
		if err != nil {
			return
		}
		if len(name.ToRDNSequence()) == 0 {
			t.Fatalf("accepted an empty subject %q", s)
		}
	})
}
