//! Publishing the built assets: a folder named by their contents, with compressed copies.
//!
//! The name changes whenever a byte does, so the server can tell browsers to keep these
//! files for a year and a new build is still fetched at once (the pages name the new
//! folder). The copies are made once here, at the strongest settings, instead of at
//! every request.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};

use crate::Result;

/// Hex digits of the content hash in the folder's name: 64 bits, plenty for builds.
const HASH_DIGITS: usize = 16;

/// The files directly in `dir`, sorted by name.
pub fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Moves the files of `staging` into `pkg/<hash of their names and contents>/` and writes
/// `.br` and `.gz` copies beside each; returns the new folder. `strongest` picks brotli's
/// and gzip's best (slow) settings, for release builds.
pub fn publish(staging: &Path, pkg: &Path, strongest: bool) -> Result<PathBuf> {
    let mut hash = Sha256::new();
    for file in &files(staging)? {
        let bytes = read(file)?;
        hash.update(file.file_name().unwrap_or_default().as_encoded_bytes());
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    let digest: String = hash.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
    let hashed = pkg.join(&digest[..HASH_DIGITS]);
    fs::rename(staging, &hashed)
        .map_err(|e| format!("cannot move {} to {}: {e}", staging.display(), hashed.display()))?;

    for file in files(&hashed)? {
        let bytes = read(&file)?;
        write(&with_suffix(&file, "br"), &brotli(&bytes, strongest)?)?;
        write(&with_suffix(&file, "gz"), &gzip(&bytes, strongest)?)?;
    }
    Ok(hashed)
}

fn brotli(bytes: &[u8], strongest: bool) -> Result<Vec<u8>> {
    let quality = if strongest { 11 } else { 5 };
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        lgwin: 24,
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)
        .map_err(|e| format!("brotli: {e}"))?;
    Ok(out)
}

fn gzip(bytes: &[u8], strongest: bool) -> Result<Vec<u8>> {
    let level = if strongest { flate2::Compression::best() } else { flate2::Compression::fast() };
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
    encoder.write_all(bytes).and_then(|()| encoder.finish()).map_err(|e| format!("gzip: {e}"))
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn read(file: &Path) -> Result<Vec<u8>> {
    fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
}

fn write(file: &Path, bytes: &[u8]) -> Result {
    fs::write(file, bytes).map_err(|e| format!("cannot write {}: {e}", file.display()))
}
