//! Black-box tests of the whole system: the real `bidline` binary on real sockets,
//! real SQLite files and PostgreSQL databases, and Debian's chromium.

mod cli;
mod http;
mod migrations;
mod pages;
mod shutdown;
