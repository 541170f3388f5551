// Embedded migrations are read by a proc macro, which cargo does not track: rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
