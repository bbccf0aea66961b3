package pki

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/smx509"
)

// maxCertificates bounds a bundle, so a hostile file cannot make hegui parse
// millions of certificates.
const maxCertificates = 1000

// ParseCertificates reads one or more certificates: a PEM bundle of
// CERTIFICATE blocks (other blocks are an error, so a key pasted into a
// bundle by mistake is noticed) or a single DER certificate.
func ParseCertificates(data []byte) ([]*smx509.Certificate, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty file")
	}
	if !bytes.Contains(data, []byte("-----BEGIN ")) {
		cert, err := smx509.ParseCertificate(data)
		if err != nil {
			return nil, fmt.Errorf("not a PEM or DER certificate: %w", err)
		}
		return []*smx509.Certificate{cert}, nil
	}
	var certs []*smx509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("unexpected PEM block %q in a certificate file (block %d)", block.Type, len(certs)+1)
		}
		if len(certs) == maxCertificates {
			return nil, fmt.Errorf("more than %d certificates in one file", maxCertificates)
		}
		cert, err := smx509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("no complete PEM certificate (truncated file?)")
	}
	if len(bytes.TrimSpace(rest)) > 0 && bytes.Contains(rest, []byte("-----BEGIN ")) {
		return nil, fmt.Errorf("PEM block after certificate %d is incomplete (truncated file?)", len(certs))
	}
	return certs, nil
}

// ParseCSR reads a PKCS#10 certificate request in PEM or DER. It does not
// check the request's signature; Issue does.
func ParseCSR(data []byte) (*smx509.CertificateRequest, error) {
	der := data
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		block, _ := pem.Decode(data)
		if block == nil {
			return nil, errors.New("no complete PEM block (truncated file?)")
		}
		if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
			return nil, fmt.Errorf("unexpected PEM block %q, want CERTIFICATE REQUEST", block.Type)
		}
		der = block.Bytes
	}
	csr, err := smx509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("not a valid certificate request: %w", err)
	}
	return csr, nil
}

// EncodeCertificates returns certificates as a PEM bundle, in order.
func EncodeCertificates(certs ...*smx509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// EncodeCSR returns a DER certificate request as PEM.
func EncodeCSR(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}
