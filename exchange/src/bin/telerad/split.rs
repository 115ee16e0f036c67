//! `telerad split FILE`: the messages of a multi-message or batch file (FHS/BHS … BTS/FTS),
//! one per file, so that each can be opened, fixed, sent or attached to a ticket alone.
//!
//! Each message is written with its bytes as they are in the file (line ends included): split
//! changes nothing, so `validate` reports the same findings on the pieces as on the whole
//! (`fmt --lenient` normalises a piece); only a UTF-8 byte-order mark at the start of the file
//! is left out. Existing files are never overwritten.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::cli::{io_failure, read_path, Failure};

#[derive(Debug, Args)]
pub struct SplitArgs {
    /// The file (`-`: standard input).
    pub file: PathBuf,
    /// Write the messages into this folder (created if needed) as `<name>-0001.hl7`,
    /// `<name>-0002.hl7` … (`<name>`: the file's name without its extension, `stdin` for `-`),
    /// and print each path. Without it the messages go to standard output, an empty line (a
    /// lone CR) between two.
    #[arg(long, value_name = "DIR")]
    pub into: Option<PathBuf>,
}

pub fn run(args: &SplitArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let mut content = read_path(&args.file)?;
    // A byte-order mark belongs to the file (an editor's), not to its first message.
    if content.starts_with(telerad_exchange::inputs::BOM) {
        content.drain(..telerad_exchange::inputs::BOM.len());
    }
    let found = telerad_exchange::batch::locate(&content).map_err(|e| Failure::Rejected(format!("{}: {e}", args.file.display())))?;
    let messages = found.iter().map(|m| content.get(m.bytes.clone()).unwrap_or_default());
    let Some(dir) = &args.into else {
        for (i, m) in messages.enumerate() {
            if i > 0 {
                out.write_all(b"\r").map_err(io_failure)?;
            }
            out.write_all(m).map_err(io_failure)?;
        }
        return Ok(());
    };
    std::fs::create_dir_all(dir).map_err(|e| Failure::Usage(format!("cannot create {}: {e}", dir.display())))?;
    let stem = if args.file.as_os_str() == "-" { "stdin".to_owned() } else { args.file.file_stem().map_or_else(|| "message".to_owned(), |s| s.to_string_lossy().into_owned()) };
    let width = found.len().to_string().len().max(4);
    for (i, m) in messages.enumerate() {
        let path = dir.join(format!("{stem}-{:0width$}.hl7", i + 1));
        let written = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).and_then(|mut f| f.write_all(m));
        written.map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))?;
        writeln!(out, "{}", path.display()).map_err(io_failure)?;
    }
    Ok(())
}
