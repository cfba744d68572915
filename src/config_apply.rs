//! Side effects of configuration changes on the running server (CONFIG SET's apply step):
//! log level and file, databases that cannot change, hz, and the like.

use crate::config::{Apply, Config};
use crate::server::Server;

/// Apply one action of a changed configuration. On error CONFIG SET restores the old values
/// and calls this again for each action to roll back.
pub fn apply(srv: &mut Server, new: &Config, _old: &Config, action: Apply) -> Result<(), String> {
    match action {
        Apply::Port => {
            srv.rebind_tcp(new.port as u16, &new.bind)
                .map_err(|_| "Unable to listen on this port. Check server logs.".to_string())?;
            srv.tcp_port = new.port as u16;
            Ok(())
        }
        Apply::Bind => srv
            .rebind_tcp(new.port as u16, &new.bind)
            .map_err(|_| "Failed to bind to specified addresses.".to_string()),
        Apply::OomScoreAdj => {
            set_oom_score_adj(srv, new, OomClass::Master);
            Ok(())
        }
        Apply::TlsPort | Apply::TlsConfig => Err("TLS is not supported by this build".to_string()),
        Apply::Appendonly => {
            // The AOF machinery reads the server's configuration (a rewrite child forks
            // with it): run it with the new one in place.
            let saved = std::mem::replace(&mut srv.config, new.clone());
            let res = if !new.appendonly && srv.aof_active() {
                srv.aof_stop();
                Ok(())
            } else if new.appendonly && !srv.aof_active() {
                srv.aof_start()
                    .map_err(|_| "Unable to turn on AOF. Check server logs.".to_string())
            } else {
                Ok(())
            };
            srv.config = saved;
            res
        }
        Apply::AofAutoGc => {
            if !new.aof_disable_auto_gc {
                let saved = std::mem::replace(&mut srv.config, new.clone());
                srv.aof_del_history_files();
                srv.config = saved;
            }
            Ok(())
        }
        Apply::ReplBacklogSize => {
            let size = new.repl_backlog_size;
            srv.repl
                .trim_backlog(size, crate::replication::backlog::TRIM_BLOCKS_PER_CALL);
            Ok(())
        }
        Apply::RequirePass => {
            let rules = crate::acl::rules(&srv.commands, new);
            srv.acl
                .set_default_password(new.requirepass.as_deref(), &rules);
            Ok(())
        }
        Apply::Maxmemory => {
            // Like Redis's updateMaxmemory: warn when already over, and let the eviction
            // timer bring memory down (the next command also evicts before running).
            let saved = srv.config.maxmemory;
            srv.config.maxmemory = new.maxmemory;
            crate::evict::refresh_expand_limit(srv);
            srv.config.maxmemory = saved;
            if new.maxmemory > 0 {
                let used = crate::alloc::used_memory()
                    .saturating_sub(crate::evict::not_counted_memory(srv))
                    as u64;
                if new.maxmemory < used {
                    log::warn!("WARNING: the new maxmemory value set via CONFIG SET ({}) is smaller than the current memory usage ({}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.", new.maxmemory, used);
                }
                crate::evict::start_eviction_time_proc(srv);
            }
            Ok(())
        }
        Apply::WatchdogPeriod => {
            srv.watchdog_period =
                crate::crash::watchdog::effective_period(new.watchdog_period, srv.hz);
            if srv.watchdog_period > 0 {
                crate::crash::watchdog::schedule(srv.watchdog_period);
            } else {
                crate::crash::watchdog::disable();
            }
            Ok(())
        }
        Apply::ProcTitle => {
            crate::util::proctitle::update(new, None);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Which `oom-score-adj-values` entry applies to this process.
#[derive(Debug, Clone, Copy)]
pub enum OomClass {
    Master = 0,
    Replica = 1,
    BgChild = 2,
}

/// Set /proc/self/oom_score_adj from `oom-score-adj` / `oom-score-adj-values` (Redis's
/// setOOMScoreAdj). The value found before we first changed it is kept as the base for
/// `relative` and restored when the feature is turned off (also on CONFIG SET rollback).
pub fn set_oom_score_adj(srv: &mut Server, cfg: &Config, class: OomClass) {
    use crate::config::OomScoreAdj;
    const PATH: &str = "/proc/self/oom_score_adj";
    let val = match cfg.oom_score_adj {
        OomScoreAdj::No => match srv.oom_score_adj_base.take() {
            Some(base) => base,
            None => return,
        },
        mode => {
            let base = match srv.oom_score_adj_base {
                Some(b) => b,
                None => {
                    let Some(b) = std::fs::read_to_string(PATH)
                        .ok()
                        .and_then(|s| s.trim().parse().ok())
                    else {
                        log::warn!("Unable to read oom_score_adj");
                        return;
                    };
                    srv.oom_score_adj_base = Some(b);
                    b
                }
            };
            let v = cfg.oom_score_adj_values[class as usize];
            let v = if mode == OomScoreAdj::Relative {
                v + base
            } else {
                v
            };
            v.clamp(-1000, 1000)
        }
    };
    if let Err(e) = std::fs::write(PATH, val.to_string()) {
        log::warn!("Unable to write oom_score_adj: {}", e);
    }
}

/// After CONFIG SET (success or rollback): refresh state derived from the config.
pub fn after_set(srv: &mut Server) {
    srv.memory_limits = srv.config.maxmemory > 0 || srv.config.maxmemory_clients != 0;
    srv.hz = srv.config.hz.clamp(1, 500) as i32;
    crate::log::set_verbosity(srv.config.loglevel as u8);
    srv.slowlog.trim(srv.config.slowlog_max_len as usize);
    srv.refresh_good_replicas();
}
