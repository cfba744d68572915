//! Loading the AOF: the manifest's files in order, each an RDB image and/or commands that a
//! client without a connection replays (Redis's loadAppendOnlyFiles /
//! loadSingleAppendOnlyFile), with truncation of an incomplete last file when
//! `aof-load-truncated` allows it.

use std::fs::OpenOptions;
use std::io;
use std::path::Path;

use bytes::Bytes;

use super::{errno_of, strerror, AofState, LoadResult};
use crate::client::{flags as cf, Client};
use crate::command::table::Lookup;
use crate::server::Server;

/// Why parsing the commands of a file stopped early.
enum Stop {
    /// The file ended in the middle of a command.
    Eof,
    /// Not RESP where a command should start.
    Format,
}

impl Server {
    /// Load every file of the manifest (Redis's loadAppendOnlyFiles). An old single-file
    /// AOF found in `dir` is first moved into the AOF directory as its BASE.
    pub fn aof_load_files(&mut self) -> LoadResult {
        let filename = self.config.appendfilename.clone();
        if Path::new(&filename).is_file() {
            let m = &self.aof.manifest;
            let dir_missing = !Path::new(&self.config.appenddirname).is_dir();
            let empty = m.base.is_none() && m.incr.is_empty();
            let only_old_base = m.incr.is_empty()
                && m.base.as_ref().is_some_and(|b| b.name == filename)
                && !self.aof_path(&filename).exists();
            if dir_missing || empty || only_old_base {
                self.aof_upgrade_prepare();
            }
        }
        let m = self.aof.manifest.clone();
        if m.base.is_none() && m.incr.is_empty() {
            return LoadResult::NotExist;
        }
        let total_num = m.base.is_some() as usize + m.incr.len();
        let mut total_size = 0i64;
        for f in m.base.iter().chain(m.incr.iter()) {
            match self.aof_file_size(&f.name) {
                Ok(n) => total_size += n,
                Err(LoadResult::NotExist) => return LoadResult::Failed,
                Err(e) => return e,
            }
        }
        if total_size == 0 {
            return LoadResult::Empty;
        }
        let p = &mut self.persistence;
        p.loading = true;
        p.loading_start_time = self.now_ms / 1000;
        p.loading_total_bytes = total_size as u64;
        p.loading_loaded_bytes = 0;
        let mut ret = LoadResult::Ok;
        let mut num = 0;
        let mut base_size = 0;
        let files = m
            .base
            .iter()
            .map(|b| (true, b))
            .chain(m.incr.iter().map(|i| (false, i)));
        for (is_base, f) in files {
            num += 1;
            let last = num == total_num;
            if is_base {
                base_size = self.aof_file_size(&f.name).unwrap_or(0);
            }
            let start = std::time::Instant::now();
            ret = self.aof_load_single(&f.name);
            if ret == LoadResult::Ok || (ret == LoadResult::Truncated && last) {
                log::info!(
                    "DB loaded from {} file {}: {:.3} seconds",
                    if is_base { "base" } else { "incr" },
                    f.name,
                    start.elapsed().as_secs_f64()
                );
            }
            if ret == LoadResult::Empty && !is_base {
                ret = LoadResult::Ok;
            }
            if ret == LoadResult::Truncated && !last {
                ret = LoadResult::Failed;
                log::warn!("Fatal error: the truncated file is not the last file");
            }
            if matches!(ret, LoadResult::OpenErr | LoadResult::Failed) {
                break;
            }
        }
        if !matches!(ret, LoadResult::OpenErr | LoadResult::Failed) {
            self.aof.current_size = total_size;
            self.aof.rewrite_base_size = base_size;
        }
        self.persistence.loading = false;
        ret
    }

    /// Load one AOF file: an RDB image and/or commands (loadSingleAppendOnlyFile).
    fn aof_load_single(&mut self, name: &str) -> LoadResult {
        let path = self.aof_path(name);
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                log::warn!(
                    "The append log file {} doesn't exist: {}",
                    name,
                    strerror(errno_of(&e))
                );
                return LoadResult::NotExist;
            }
            Err(e) => {
                log::warn!(
                    "Fatal error: can't open the append log file {} for reading: {}",
                    name,
                    strerror(errno_of(&e))
                );
                return LoadResult::OpenErr;
            }
        };
        if data.is_empty() {
            return LoadResult::Empty;
        }
        let old_state = std::mem::replace(&mut self.aof.state, AofState::Off);
        let res = self.aof_replay(name, &path, &data);
        self.aof.state = old_state;
        res
    }

    /// Replay `data`, the contents of AOF file `name`.
    fn aof_replay(&mut self, name: &str, path: &Path, data: &[u8]) -> LoadResult {
        let base_bytes = self.persistence.loading_loaded_bytes;
        let mut pos = 0usize;
        if data.starts_with(b"REDIS") {
            let old_style = name == self.config.appendfilename;
            if old_style {
                log::info!("Reading RDB preamble from AOF file...");
            } else {
                log::info!("Reading RDB base file on AOF loading...");
            }
            match crate::persistence::rdb::load_preamble(self, data) {
                Ok(used) => {
                    pos = used;
                    self.persistence.loading_loaded_bytes = base_bytes + used as u64;
                    if old_style {
                        log::info!("Reading the remaining AOF tail...");
                    }
                }
                Err(_) => {
                    if old_style {
                        log::warn!("Error reading the RDB preamble of the AOF file {}, AOF loading aborted", name);
                    } else {
                        log::warn!(
                            "Error reading the RDB base file {}, AOF loading aborted",
                            name
                        );
                    }
                    return self.aof_load_uxeof(name, path, None);
                }
            }
        }
        let mut fake = Client::new(u64::MAX, None, String::new(), String::new(), self.now_ms);
        fake.flags |= cf::AOF_CLIENT;
        fake.authenticated = true;
        fake.user = None;
        let truncated_ok = self.config.aof_load_truncated;
        let mut valid_up_to = pos;
        let mut valid_before_multi = pos;
        let mut loops = 0u64;
        let outcome: Result<(), Stop> = loop {
            if loops.is_multiple_of(1024) {
                self.persistence.loading_loaded_bytes = base_bytes + pos as u64;
                self.process_events_while_blocked();
            }
            loops += 1;
            if pos >= data.len() {
                break Ok(());
            }
            let Some(nl) = memchr::memchr(b'\n', &data[pos..]) else {
                break Err(Stop::Eof);
            };
            let line = &data[pos..pos + nl + 1];
            if line[0] == b'#' {
                // An annotation (#TS:...).
                pos += nl + 1;
                continue;
            }
            if line[0] != b'*' {
                break Err(Stop::Format);
            }
            let argc = crate::config::parse::c_strtoll(&line[1..], 10).value;
            if argc < 1 {
                break Err(Stop::Format);
            }
            pos += nl + 1;
            let mut argv: Vec<Bytes> = Vec::with_capacity(argc.min(1024) as usize);
            let mut stop = None;
            for _ in 0..argc {
                let Some(i) = memchr::memchr(b'\n', &data[pos..]) else {
                    stop = Some(Stop::Eof);
                    break;
                };
                if data[pos] != b'$' {
                    stop = Some(Stop::Format);
                    break;
                }
                let len = crate::config::parse::c_strtoll(&data[pos + 1..pos + i], 10)
                    .value
                    .max(0) as usize;
                pos += i + 1;
                if pos + len + 2 > data.len() {
                    stop = Some(Stop::Eof);
                    break;
                }
                argv.push(Bytes::copy_from_slice(&data[pos..pos + len]));
                pos += len + 2;
            }
            if let Some(s) = stop {
                break Err(s);
            }
            let id = match self.commands.lookup(&argv) {
                Lookup::Found(id) => id,
                _ => {
                    log::warn!(
                        "Unknown command '{}' reading the append only file {}",
                        String::from_utf8_lossy(&argv[0]),
                        name
                    );
                    return LoadResult::Failed;
                }
            };
            let spec = self.commands.entries[id].spec;
            if spec.name == "multi" {
                valid_before_multi = valid_up_to;
            }
            if fake.has(cf::MULTI) && spec.name != "exec" {
                crate::commands::multi::queue_command(self, &mut fake, &argv, spec.flags);
            } else {
                self.call(&mut fake, id, &argv);
            }
            fake.reply.buf.clear();
            fake.reply.sent = 0;
            if truncated_ok {
                valid_up_to = pos;
            }
            if self.config.key_load_delay != 0 {
                crate::persistence::rdb::debug_delay(self.config.key_load_delay);
            }
        };
        self.persistence.loading_loaded_bytes = base_bytes + pos as u64;
        match outcome {
            Ok(()) if fake.has(cf::MULTI) => {
                log::warn!(
                    "Revert incomplete MULTI/EXEC transaction in AOF file {}",
                    name
                );
                self.aof_load_uxeof(name, path, Some(valid_before_multi))
            }
            Ok(()) => LoadResult::Ok,
            Err(Stop::Eof) => self.aof_load_uxeof(name, path, Some(valid_up_to)),
            Err(Stop::Format) => {
                log::warn!("Bad file format reading the append only file {}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>", name);
                LoadResult::Failed
            }
        }
    }

    /// The file ended in the middle of a command: truncate it at `valid_up_to` when allowed.
    fn aof_load_uxeof(
        &mut self,
        name: &str,
        path: &Path,
        valid_up_to: Option<usize>,
    ) -> LoadResult {
        if self.config.aof_load_truncated {
            match valid_up_to {
                Some(valid) => {
                    log::warn!(
                        "!!! Warning: short read while loading the AOF file {}!!!",
                        name
                    );
                    log::warn!("!!! Truncating the AOF {} at offset {} !!!", name, valid);
                    match OpenOptions::new()
                        .write(true)
                        .open(path)
                        .and_then(|f| f.set_len(valid as u64))
                    {
                        Ok(()) => {
                            log::warn!(
                                "AOF {} loaded anyway because aof-load-truncated is enabled",
                                name
                            );
                            return LoadResult::Truncated;
                        }
                        Err(e) => log::warn!(
                            "Error truncating the AOF file {}: {}",
                            name,
                            strerror(errno_of(&e))
                        ),
                    }
                }
                None => log::warn!("Last valid command offset is invalid"),
            }
        }
        log::warn!("Unexpected end of file reading the append only file {}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.", name);
        LoadResult::Failed
    }
}
