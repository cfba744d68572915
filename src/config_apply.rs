//! Side effects of configuration changes on the running server (CONFIG SET's apply step):
//! log level and file, databases that cannot change, hz, and the like.

use crate::config::{Apply, Config};
use crate::server::Server;

/// Apply one action of a changed configuration. On error CONFIG SET restores the old values
/// and calls this again for each action to roll back.
pub fn apply(_srv: &mut Server, _new: &Config, _old: &Config, action: Apply) -> Result<(), String> {
    match action {
        _ => Ok(()),
    }
}

/// After CONFIG SET (success or rollback): refresh state derived from the config.
pub fn after_set(srv: &mut Server) {
    srv.hz = srv.config.hz.clamp(1, 500) as i32;
    crate::log::set_verbosity(srv.config.loglevel as u8);
    srv.slowlog.trim(srv.config.slowlog_max_len as usize);
}
