//! `cargo xtask build [--release]`: builds everything the `bidline` binary serves.
//!
//! 1. the `frontend` crate for `wasm32-unknown-unknown` (the hydrating app), linked with
//!    its relocations so that it can be split;
//! 2. the split: every group of dashboard pages (`app/src/routes.rs`) moves to a module
//!    of its own, loaded when first needed, with the code two groups share in chunks
//!    and what three or more share left in the main module; a manifest says which
//!    chunks each group needs (Leptos reads it to name a rendered page's chunks in
//!    preload links);
//! 3. the JS glue, generated in-process by `wasm-bindgen-cli-support` at the exact
//!    version of the `wasm-bindgen` pin, so no `wasm-bindgen` CLI install is needed;
//! 4. for `--release`, `wasm-opt` from npm's `binaryen` on every wasm file, when `npm ci`
//!    installed it;
//! 5. `style/main.css` beside them, then the lot moved under `site/pkg/<hash>/`, named
//!    by the hash of its contents (so browsers may keep it for a year), each file with
//!    brotli and gzip copies beside it; `site/pkg-dir` names the folder for the server;
//! 6. `public/` into the site folder `site/`;
//! 7. the server (`bidline`).
//!
//! Debug and release differ only in cargo profiles and in how hard they compress.

mod assets;

use std::{
    env,
    ffi::OsStr,
    fs,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

const OUTPUT_NAME: &str = "bidline";
/// What Leptos' `HydrationScripts` asks for when files are not renamed by cargo-leptos.
const SPLIT_LINK: &str = "__wasm_split.______________________.js";
const SPLIT_MANIFEST: &str = "__wasm_split_manifest.json";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    Debug,
    Release,
}

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["build"] => build(Profile::Debug),
        ["build", "--release"] => build(Profile::Release),
        _ => Err("usage: cargo xtask build [--release]".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

fn build(profile: Profile) -> Result {
    let root = workspace_root()?;
    let target = env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let site = root.join("site");
    let pkg = site.join("pkg");

    let wasm_profile = match profile {
        Profile::Debug => "dev",
        Profile::Release => "wasm-release",
    };
    cargo(
        &root,
        &[
            "build",
            "--package",
            "bidline-frontend",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            wasm_profile,
        ],
    )?;
    let wasm_dir = match profile {
        Profile::Debug => "debug",
        Profile::Release => "wasm-release",
    };
    let wasm = target.join("wasm32-unknown-unknown").join(wasm_dir).join("bidline_frontend.wasm");

    if pkg.exists() {
        fs::remove_dir_all(&pkg).map_err(|e| format!("cannot empty {}: {e}", pkg.display()))?;
    }
    let staging = pkg.join("staging");
    fs::create_dir_all(&staging)
        .map_err(|e| format!("cannot create {}: {e}", staging.display()))?;

    let main = wasm.with_file_name("bidline_frontend_split.wasm");
    split(&wasm, &main, &staging)?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&main)
        .web(true)
        .and_then(|bindgen| {
            bindgen
                .out_name(OUTPUT_NAME)
                .debug(profile == Profile::Debug)
                // The split chunks link against the main module's exports by their
                // linker names: keep both.
                .keep_lld_exports(true)
                .demangle(false)
                .generate(&staging)
        })
        .map_err(|e| format!("wasm-bindgen on {}: {e:#}", main.display()))?;

    if profile == Profile::Release {
        for file in assets::files(&staging)? {
            if file.extension() == Some(OsStr::new("wasm")) {
                optimise(&root, &file)?;
            }
        }
    }
    copy(&root.join("style/main.css"), &staging.join(format!("{OUTPUT_NAME}.css")))?;

    let hashed = assets::publish(&staging, &pkg, profile == Profile::Release)?;
    let pkg_dir = format!("pkg/{}", hashed.file_name().and_then(OsStr::to_str).unwrap_or_default());
    fs::write(site.join("pkg-dir"), &pkg_dir)
        .map_err(|e| format!("cannot write site/pkg-dir: {e}"))?;
    copy_tree(&root.join("public"), &site)?;

    let mut server = vec!["build", "--package", "bidline"];
    if profile == Profile::Release {
        server.push("--release");
    }
    cargo(&root, &server)?;

    println!("site: {} (assets in {pkg_dir})", site.display());
    Ok(())
}

/// Splits `wasm` at its lazy-loading points: the chunks and the loader that fetches them
/// go to `out`, with the manifest Leptos reads to preload a page's chunks; the main
/// module, still to go through wasm-bindgen, to `main`.
fn split(wasm: &Path, main: &Path, out: &Path) -> Result {
    let input = fs::read(wasm).map_err(|e| format!("cannot read {}: {e}", wasm.display()))?;
    let link = format!("./{SPLIT_LINK}");
    let main_module = format!("./{OUTPUT_NAME}.js");
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = out;
    options.main_out_path = main;
    options.link_name = &link;
    options.main_module = &main_module;
    // Code that three or more page groups need goes into the main module. One chunk per
    // set of groups made a page fetch 58–118 small files; this way every page is lighter
    // (estimated from each layout's files, then measured with `scripts/bench-weight`; at
    // two the main module alone grows to 317 KB).
    options.main_from_users = Some(3);
    let split = wasm_split_cli_support::transform(options)
        .map_err(|e| format!("wasm-split on {}: {e:#}", wasm.display()))?;
    let manifest = serde_json::to_string_pretty(&split.prefetch_map).map_err(|e| e.to_string())?;
    fs::write(out.join(SPLIT_MANIFEST), manifest)
        .map_err(|e| format!("cannot write the split manifest: {e}"))
}

/// The workspace of the current folder. Not this binary's build-time path: one target
/// folder may serve several checkouts, and the binary may come from another one.
fn workspace_root() -> Result<PathBuf> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .output()
        .map_err(|e| format!("cannot run cargo locate-project: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo locate-project: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let manifest = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    manifest.parent().map(Path::to_path_buf).ok_or_else(|| "no workspace folder".to_owned())
}

/// Runs cargo without the variables `cargo run` gave this process: a child that sees
/// `CARGO_MANIFEST_DIR` or `CARGO_PKG_*` makes build scripts (ring's, among others)
/// think their inputs changed and rebuild every time.
fn cargo(root: &Path, args: &[&str]) -> Result {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command.current_dir(root).args(args);
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        let from_cargo_run = key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || matches!(
                key.as_ref(),
                "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE"
            );
        if from_cargo_run {
            command.env_remove(key.as_ref());
        }
    }
    let status = command.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("cargo {} failed", args.join(" "))) }
}

/// Shrinks the release wasm with binaryen's `wasm-opt` from `node_modules` (npm
/// `binaryen`, pinned in package.json). Debian's binaryen 108 is too old: its output
/// fails in the browser, so only the pinned one is used.
fn optimise(root: &Path, wasm: &Path) -> Result {
    let wasm_opt = root.join("node_modules/.bin/wasm-opt");
    if !wasm_opt.exists() {
        println!(
            "xtask: {} not found (run `npm ci`); the wasm stays unoptimised",
            wasm_opt.display()
        );
        return Ok(());
    }
    let features = [
        "--enable-bulk-memory",
        "--enable-nontrapping-float-to-int",
        "--enable-sign-ext",
        "--enable-reference-types",
        "--enable-multivalue",
        "--enable-mutable-globals",
    ];
    let status = Command::new(&wasm_opt)
        .args(features)
        .arg("-Oz")
        // Sections browsers ignore, repeated in every chunk.
        .args(["--strip-producers", "--strip-target-features"])
        .arg(wasm)
        .arg("-o")
        .arg(wasm)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", wasm_opt.display()))?;
    if status.success() { Ok(()) } else { Err("wasm-opt failed".to_owned()) }
}

fn copy(from: &Path, to: &Path) -> Result {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn copy_tree(from: &Path, to: &Path) -> Result {
    let entries = fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let name = entry.file_name();
        if name == OsStr::new(".gitkeep") {
            continue;
        }
        if path.is_dir() {
            copy_tree(&path, &to.join(&name))?;
        } else {
            copy(&path, &to.join(&name))?;
        }
    }
    Ok(())
}
