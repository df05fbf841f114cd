#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| proxid::fuzzing::config_file(data));
