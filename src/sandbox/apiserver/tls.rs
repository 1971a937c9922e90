//! A fresh certificate authority and serving certificate for 127.0.0.1 on every start.
//! kubectl sends a bearer token only over TLS, so the sandbox speaks HTTPS, and the
//! kubeconfig carries the CA so clients verify the server instead of skipping checks.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub(crate) struct Tls {
    /// PEM of the CA that signed the serving certificate, for `certificate-authority-data`.
    pub ca_pem: String,
    pub config: Arc<ServerConfig>,
}

/// Why the sandbox could not make its certificates or TLS setup.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot make the sandbox's {what}: {source}")]
    Certificate {
        what: &'static str,
        #[source]
        source: rcgen::Error,
    },
    #[error("cannot make the sandbox's TLS setup: {0}")]
    Setup(#[from] rustls::Error),
}

pub fn generate() -> Result<Tls, TlsError> {
    let fail = |what: &'static str, source: rcgen::Error| TlsError::Certificate { what, source };
    let ca_key = KeyPair::generate().map_err(|e| fail("CA key", e))?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| fail("CA", e))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "splitscope-sandbox-ca");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(|e| fail("CA", e))?;

    let key = KeyPair::generate().map_err(|e| fail("serving key", e))?;
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .map_err(|e| fail("serving certificate", e))?;
    params
        .distinguished_name
        .push(DnType::CommonName, "splitscope-sandbox");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let cert = params
        .signed_by(&key, &ca)
        .map_err(|e| fail("serving certificate", e))?;

    let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone(), ca.der().clone()];
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, private)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        ca_pem: ca.pem(),
        config: Arc::new(config),
    })
}
