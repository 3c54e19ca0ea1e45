//! One module per subcommand.

pub(crate) mod decode;
pub(crate) mod record;
pub(crate) mod replay;
pub(crate) mod serve;
pub(crate) mod util;
