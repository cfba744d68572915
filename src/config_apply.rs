//! Side effects of configuration changes on the running server (CONFIG SET's apply step):
//! log level and file, databases that cannot change, hz, and the like.

use crate::config::Config;
use crate::server::Server;

/// Apply a changed configuration. On error CONFIG SET rolls back and calls this again.
pub fn apply(_srv: &mut Server, new: &Config, _old: &Config, _changed: &[usize]) -> Result<(), String> {
    crate::log::set_logfile(&new.logfile);
    Ok(())
}

/// After CONFIG SET (success or rollback): refresh state derived from the config.
pub fn after_set(srv: &mut Server) {
    srv.hz = srv.config.hz as i32;
    srv.slowlog.trim(srv.config.slowlog_max_len as usize);
}
