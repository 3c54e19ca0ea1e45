//! fbcomet's certificate authority, and TLS for its servers.
//!
//! Clients of every era after 2010 speak HTTPS to the chat hosts. They are
//! pointed at an fbcomet server as at mitmproxy: through it as an HTTPS
//! proxy (`CONNECT host:443`), trusting its certificate authority. The
//! [`Authority`] is created on first use in a directory (`ca.pem`, the
//! certificate users trust, and `ca-key.pem`, its key, readable by the owner
//! only) and reused after, so a client trusts it once; it mints a
//! certificate for each host name asked for (by SNI) on the fly, cached.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// The CA certificate's file in the CA directory.
pub const CA_CERT_FILE: &str = "ca.pem";
/// The CA key's file in the CA directory (mode 0600).
pub const CA_KEY_FILE: &str = "ca-key.pem";

/// Why the certificate authority could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The CA directory or a file in it could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The CA key may be read by others than its owner.
    #[error(
        "{path}: the CA key is readable by others (mode {mode:o}); make it 0600 (chmod 600) or delete the directory to start over"
    )]
    KeyExposed {
        /// The key file.
        path: PathBuf,
        /// Its mode.
        mode: u32,
    },
    /// A certificate or key could not be made or read.
    #[error("{what}: {source}")]
    Certificate {
        /// What was being done.
        what: String,
        /// Why.
        source: rcgen::Error,
    },
    /// The TLS library refused a key or configuration.
    #[error("TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The distinguished name of fbcomet's CA. Leaf certificates name it as
/// their issuer, so it is fixed: a CA reloaded from its key signs as the
/// one created.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "fbcomet local CA (for testing only)");
    dn.push(DnType::OrganizationName, "fbcomet");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params
}

/// fbcomet's certificate authority.
pub struct Authority {
    dir: PathBuf,
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    /// One key for every leaf certificate (minting stays cheap).
    leaf_key: KeyPair,
    cache: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl Authority {
    /// The CA of `dir`: loaded when `ca.pem` and `ca-key.pem` are there,
    /// created (with the directory) when they are not. A key that others
    /// may read, or a directory that cannot be written, is an error.
    pub fn load_or_create(dir: &Path) -> Result<Arc<Authority>, TlsError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| TlsError::Io { path, source }
        };
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        let cert_err = |what: &str| {
            let what = what.to_owned();
            move |source| TlsError::Certificate { what, source }
        };
        // Another process may be creating it this moment: its certificate
        // follows its key, so wait a little for it before reading.
        let load = || -> Result<(String, KeyPair), TlsError> {
            for _ in 0..100 {
                if cert_path.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            check_private(&key_path)?;
            let key_pem = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
            let key = KeyPair::from_pem(&key_pem).map_err(cert_err("reading the CA key"))?;
            Ok((std::fs::read_to_string(&cert_path).map_err(io(&cert_path))?, key))
        };
        let (ca_pem, key) = if key_path.exists() {
            load()?
        } else {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
            let key = KeyPair::generate().map_err(cert_err("making the CA key"))?;
            let mut params = ca_params();
            let now = time::OffsetDateTime::now_utc();
            params.not_before = now - time::Duration::days(1);
            params.not_after = now + time::Duration::days(3650);
            let cert = params.self_signed(&key).map_err(cert_err("making the CA certificate"))?;
            // Written aside, then linked into place: of two processes that
            // create it at once, one wins and the other loads the winner's.
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tmp = |name: &str| dir.join(format!(".{name}.{}.{unique}", std::process::id()));
            let (key_tmp, cert_tmp) = (tmp(CA_KEY_FILE), tmp(CA_CERT_FILE));
            write_private(&key_tmp, &key.serialize_pem()).map_err(io(&key_tmp))?;
            std::fs::write(&cert_tmp, cert.pem()).map_err(io(&cert_tmp))?;
            let won = match std::fs::hard_link(&key_tmp, &key_path) {
                Ok(()) => std::fs::rename(&cert_tmp, &cert_path).map_err(io(&cert_path)).map(|()| true),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(err) => Err(TlsError::Io { path: key_path.clone(), source: err }),
            };
            let _ = std::fs::remove_file(&key_tmp);
            let _ = std::fs::remove_file(&cert_tmp);
            if won? {
                tracing::info!(path = %cert_path.display(), "created fbcomet's certificate authority");
                (cert.pem(), key)
            } else {
                load()?
            }
        };
        let ca_der = rustls::pki_types::pem::PemObject::from_pem_slice(ca_pem.as_bytes())
            .map_err(|e| TlsError::Io { path: cert_path.clone(), source: std::io::Error::other(e.to_string()) })?;
        let leaf_key = KeyPair::generate().map_err(cert_err("making a certificate key"))?;
        Ok(Arc::new(Authority {
            dir: dir.to_owned(),
            ca_pem,
            ca_der,
            issuer: Issuer::new(ca_params(), key),
            leaf_key,
            cache: Mutex::new(HashMap::new()),
        }))
    }

    /// The directory of the CA.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where `ca.pem` is.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.join(CA_CERT_FILE)
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The certificate and key for `host` (a DNS name or an IP address),
    /// minted on first use and cached.
    pub fn certified_key(&self, host: &str) -> Result<Arc<CertifiedKey>, TlsError> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Some(key) = self.cache.lock().unwrap_or_else(PoisonError::into_inner).get(&host) {
            return Ok(key.clone());
        }
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, host.as_str());
        params.distinguished_name = dn;
        params.subject_alt_names = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SanType::IpAddress(ip)],
            Err(_) => vec![SanType::DnsName(
                host.clone()
                    .try_into()
                    .map_err(|source| TlsError::Certificate { what: format!("the host name {host:?}"), source })?,
            )],
        };
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(90);
        let cert = params
            .signed_by(&self.leaf_key, &self.issuer)
            .map_err(|source| TlsError::Certificate { what: format!("a certificate for {host}"), source })?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der()));
        let signing = rustls::crypto::ring::sign::any_supported_type(&key_der)?;
        let certified = Arc::new(CertifiedKey::new(vec![cert.der().clone(), self.ca_der.clone()], signing));
        self.cache.lock().unwrap_or_else(PoisonError::into_inner).insert(host, certified.clone());
        Ok(certified)
    }

    /// A rustls server configuration that presents, for each host name a
    /// client asks for, a certificate from this CA (`localhost` and the
    /// loopback addresses when the client names none). HTTP/1.1.
    pub fn server_config(self: &Arc<Self>) -> Arc<rustls::ServerConfig> {
        self.config_with_alpn(vec![b"http/1.1".to_vec()])
    }

    /// The same without ALPN, for XMPP's STARTTLS.
    pub fn xmpp_server_config(self: &Arc<Self>) -> Arc<rustls::ServerConfig> {
        self.config_with_alpn(Vec::new())
    }

    fn config_with_alpn(self: &Arc<Self>, alpn: Vec<Vec<u8>>) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|_| unreachable_protocols())
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Resolver(self.clone())));
        config.alpn_protocols = alpn;
        Arc::new(config)
    }
}

/// The safe defaults are always supported by the ring provider.
fn unreachable_protocols() -> rustls::ConfigBuilder<rustls::ServerConfig, rustls::WantsVerifier> {
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("the ring provider supports TLS 1.3")
}

#[derive(Debug)]
struct Resolver(Arc<Authority>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let host = hello.server_name().unwrap_or("127.0.0.1");
        match self.0.certified_key(host) {
            Ok(key) => Some(key),
            Err(err) => {
                tracing::warn!(%err, host, "no certificate for this host");
                None
            }
        }
    }
}

/// Where the CA lives unless told otherwise: `$XDG_DATA_HOME/fbcomet/ca`,
/// else `~/.local/share/fbcomet/ca`, else `./.fbcomet/ca`.
pub fn default_ca_dir() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".local/share")));
    match data {
        Some(data) => data.join("fbcomet").join("ca"),
        None => PathBuf::from(".fbcomet").join("ca"),
    }
}

/// Writes a secret (a key, a saved session) to `path`, readable and
/// writable by its owner only, whatever mode the file had before.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}

/// A key file must be its owner's alone.
fn check_private(path: &Path) -> Result<(), TlsError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|source| TlsError::Io { path: path.to_owned(), source })?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(TlsError::KeyExposed { path: path.to_owned(), mode });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("fbcomet-tls-{}-{name}", std::process::id()))
    }

    #[test]
    fn the_ca_is_made_once_and_reused() {
        let dir = temp("reuse");
        let _ = std::fs::remove_dir_all(&dir);
        let first = Authority::load_or_create(&dir).expect("created");
        let again = Authority::load_or_create(&dir).expect("loaded");
        assert_eq!(first.ca_pem(), again.ca_pem(), "the same CA: a client trusts it once");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(CA_KEY_FILE)).expect("key").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let key = again.certified_key("www.facebook.com").expect("minted");
        assert_eq!(key.cert.len(), 2, "the leaf and the CA");
        assert!(Arc::ptr_eq(&key, &again.certified_key("WWW.facebook.com.").expect("cached")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    #[cfg(unix)]
    fn an_exposed_key_and_an_unwritable_dir_are_errors() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp("exposed");
        let _ = std::fs::remove_dir_all(&dir);
        Authority::load_or_create(&dir).expect("created");
        std::fs::set_permissions(dir.join(CA_KEY_FILE), std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = Authority::load_or_create(&dir).expect_err("exposed");
        assert!(err.to_string().contains("readable by others (mode 644)"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
        let err = Authority::load_or_create(Path::new("/proc/fbcomet-ca")).expect_err("unwritable");
        assert!(err.to_string().starts_with("/proc/fbcomet-ca"), "{err}");
    }
}
