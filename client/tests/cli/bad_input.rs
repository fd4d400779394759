//! Bad input gets a clear error and a non-zero exit, and loses nothing.

use super::*;
use provena_test_utils::Node;

#[test]
fn bad_input_gets_a_clear_error_and_a_non_zero_exit() {
	let home = tempfile::tempdir().unwrap();
	let node = Node::dev();
	let url = node.url();
	let (key, device) = device_key(&url, home.path(), "d.key");
	ok(provena(&url, home.path()).args([
		"device",
		"register",
		"--suri",
		"//Alice",
		"--device-key",
		&key,
	]));
	let submit = |extra: &[&str]| {
		let mut c = provena(&url, home.path());
		c.args(["submit", "--suri", "//Alice", "--device-key", &key]).args(extra);
		c
	};

	// A bad JSON line: its line number, and nothing stored or sent.
	let file = home.path().join("bad.jsonl");
	std::fs::write(&file, "{\"timestamp_ms\": 1, \"values\": {\"t\": 1}}\n{\"timestamp_ms\": 2, \"values\": {\"t\": }\n").unwrap();
	let (_, err) = fails(&mut submit(&["--device", &device, "--file", file.to_str().unwrap()]));
	assert!(err.contains("bad.jsonl:2: not a reading"), "{err}");
	let state = json(provena(&url, home.path()).args(["device", "show", "--device", &device]));
	assert_eq!(state["readings"], 0);

	// A CSV cell that is not a number.
	let csv = home.path().join("bad.csv");
	std::fs::write(&csv, "timestamp_ms,temperature\n1,4.5\n2,warm\n").unwrap();
	let (_, err) = fails(&mut submit(&["--device", &device, "--file", csv.to_str().unwrap()]));
	assert!(err.contains("bad.csv:3: temperature `warm` is not a number"), "{err}");

	// An unknown device.
	let unknown = format!("0x{}", "ab".repeat(32));
	let (_, err) = fails(&mut submit(&["--device", &unknown, "--value", "t=1"]));
	assert!(err.contains("is not registered on this chain"), "{err}");
	let (_, err) = fails(provena(&url, home.path()).args(["device", "show", "--device", &unknown]));
	assert!(err.contains("is not registered"), "{err}");

	// The wrong key file for the device: another key, a damaged file, a file others can read.
	let (other, _) = device_key(&url, home.path(), "other.key");
	let (_, err) = fails(provena(&url, home.path()).args([
		"submit",
		"--suri",
		"//Alice",
		"--device-key",
		&other,
		"--device",
		&device,
		"--value",
		"t=1",
	]));
	assert!(err.contains("not the one registered"), "{err}");
	let damaged = home.path().join("damaged.key");
	std::fs::write(&damaged, "not a key").unwrap();
	std::fs::set_permissions(&damaged, std::os::unix::fs::PermissionsExt::from_mode(0o600))
		.unwrap();
	let (_, err) = fails(
		provena(&url, home.path())
			.args([
				"submit",
				"--suri",
				"//Alice",
				"--device",
				&device,
				"--value",
				"t=1",
				"--device-key",
			])
			.arg(&damaged),
	);
	assert!(err.contains("is not a Provena key file"), "{err}");
	std::fs::set_permissions(&other, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
	let (_, err) = fails(provena(&url, home.path()).args(["key", "inspect", &other]));
	assert!(err.contains("chmod 600"), "{err}");

	// A value that is not a number, and a device id that is not one.
	let (_, err) = fails(&mut submit(&["--device", &device, "--value", "t=hot"]));
	assert!(err.contains("`hot` is not a number"), "{err}");
	let (_, err) = fails(&mut submit(&["--device", "0x1234", "--value", "t=1"]));
	assert!(err.contains("needs 32 bytes"), "{err}");

	// A malformed id is a usage error that names the flag, before anything is sent.
	let (code, err) =
		fails(provena(&url, home.path()).args(["device", "show", "--device", "0x1234"]));
	assert_eq!(code, 2, "{err}");
	assert!(err.contains("--device") && err.contains("needs 32 bytes"), "{err}");
	let (code, err) = fails(provena(&url, home.path()).args([
		"grant", "add", "--device", &device, "--to", "5Nope", "--submit", "--suri", "//Alice",
	]));
	assert_eq!(code, 2, "{err}");
	assert!(err.contains("--to") && err.contains("not an SS58 address"), "{err}");
	// DELEGATE means nothing without MANAGE in the same grant: refused before anything is sent.
	let bob = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
	let (code, err) = fails(provena(&url, home.path()).args([
		"grant",
		"add",
		"--device",
		&device,
		"--to",
		bob,
		"--delegate",
		"--suri",
		"//Alice",
	]));
	assert_eq!(code, 2, "{err}");
	assert!(err.contains("--delegate") && err.contains("--manage"), "{err}");

	// An account without funds: the pool refuses, and the runtime's verdict says why.
	let (_, err) = fails(provena(&url, home.path()).args([
		"encryption-key",
		"publish",
		"--suri",
		"//NoFunds",
	]));
	assert!(err.contains("cannot pay the fee"), "{err}");

	// A dispatch error comes back by name: Bob cannot suspend Alice's device.
	let (_, err) = fails(
		provena(&url, home.path())
			.args(["device", "suspend", "--device", &device, "--suri", "//Bob"]),
	);
	assert!(err.contains("DeviceRegistry.NotOwner"), "{err}");

	// An encrypted key file: generated under a password file, refused without the password
	// (there is no terminal to ask), with a wrong one, and used with the right one.
	let password = home.path().join("pw");
	std::fs::write(&password, "correct horse\n").unwrap();
	std::fs::set_permissions(&password, std::os::unix::fs::PermissionsExt::from_mode(0o600))
		.unwrap();
	let sealed = home.path().join("sealed.key");
	let made = json(
		provena(&url, home.path())
			.args(["key", "generate", "--scheme", "ed25519", "--encrypt", "--password-file"])
			.arg(&password)
			.arg("--out")
			.arg(&sealed),
	);
	assert_eq!(made["encrypted"], true, "{made}");
	let (_, err) = fails(provena(&url, home.path()).args(["key", "inspect"]).arg(&sealed));
	assert!(err.contains("is encrypted") && err.contains("--password-file"), "{err}");
	let wrong = home.path().join("wrong-pw");
	std::fs::write(&wrong, "battery staple").unwrap();
	std::fs::set_permissions(&wrong, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
	let (_, err) = fails(
		provena(&url, home.path())
			.args(["key", "inspect"])
			.arg(&sealed)
			.env("PROVENA_PASSWORD_FILE", &wrong),
	);
	assert!(err.contains("wrong password"), "{err}");
	let (_, err) = fails(
		provena(&url, home.path())
			.args(["key", "generate", "--encrypt", "--out"])
			.arg(home.path().join("never.key")),
	);
	assert!(err.contains("--encrypt needs a password"), "{err}");
	assert!(!home.path().join("never.key").exists());
	let registered = json(
		provena(&url, home.path())
			.args(["device", "register", "--suri", "//Alice", "--device-key"])
			.arg(&sealed)
			.env("PROVENA_PASSWORD_FILE", &password),
	);
	assert_eq!(registered["device"], made["public"], "{registered}");

	// A dead node: what to do.
	let dead = format!("ws://127.0.0.1:{}", free_port());
	let (_, err) = fails(provena(&dead, home.path()).args(["device", "show", "--device", &device]));
	assert!(err.contains("cannot reach the node") && err.contains("scripts/start.sh"), "{err}");
}
