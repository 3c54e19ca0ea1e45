//! One module per subcommand.

pub(crate) mod decode;
pub(crate) mod replay;
pub(crate) mod util;
