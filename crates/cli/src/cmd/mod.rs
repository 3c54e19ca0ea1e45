//! One module per subcommand.

pub(crate) mod buddies;
pub(crate) mod chat;
pub(crate) mod connect;
pub(crate) mod decode;
pub(crate) mod demo;
pub(crate) mod har;
pub(crate) mod listen;
pub(crate) mod record;
pub(crate) mod replay;
pub(crate) mod send;
pub(crate) mod serve;
pub(crate) mod util;
