//! `fbcomet ca`: where fbcomet's certificate authority is, and how to make
//! clients trust it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Where fbcomet's certificate authority is, and how to trust it.
///
/// `serve`, `replay` and `record` answer `CONNECT host:443` (clients with
/// fbcomet as their HTTPS proxy) with certificates from this CA; a client
/// trusts it once. The CA is created on first use (here too).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fbcomet ca
  curl --cacert \"$(fbcomet ca --path)\" -x http://127.0.0.1:8008 https://www.facebook.com/login.php
  fbcomet ca --pem > fbcomet-ca.pem")]
pub(crate) struct Args {
    /// The CA directory (default: $XDG_DATA_HOME/fbcomet/ca, ~/.local/share/fbcomet/ca).
    #[arg(long, value_name = "DIR")]
    ca_dir: Option<PathBuf>,

    /// Print only the path of ca.pem.
    #[arg(long, conflicts_with = "pem")]
    path: bool,

    /// Print the certificate itself (PEM).
    #[arg(long)]
    pem: bool,
}

pub(crate) fn run(args: Args) -> super::Result {
    let dir = args.ca_dir.unwrap_or_else(fbcomet_mock::tls::default_ca_dir);
    let authority = fbcomet_mock::tls::Authority::load_or_create(&dir)?;
    let ca = authority.ca_path();
    let mut out = std::io::stdout().lock();
    if args.pem {
        write!(out, "{}", authority.ca_pem())?;
    } else if args.path {
        writeln!(out, "{}", ca.display())?;
    } else {
        let ca = ca.display();
        writeln!(
            out,
            "fbcomet's certificate authority: {ca}

Trust it in the client, and use fbcomet as the HTTPS proxy:
  export HTTPS_PROXY=http://127.0.0.1:8008
  export REQUESTS_CA_BUNDLE={ca}     # Python requests (fbchat, Flask bots)
  export SSL_CERT_FILE={ca}          # OpenSSL-based clients, Python's ssl
  export NODE_EXTRA_CA_CERTS={ca}    # Node (facebook-chat-api)
  curl --cacert {ca} -x http://127.0.0.1:8008 https://www.facebook.com/login.php

Or trust it system-wide (Debian, Ubuntu), and untrust it the same way:
  sudo cp {ca} /usr/local/share/ca-certificates/fbcomet.crt && sudo update-ca-certificates

Its key is {key} (readable by you only). It is a test CA: trust it only
where you test.",
            key = authority.dir().join(fbcomet_mock::tls::CA_KEY_FILE).display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
