import fs from "node:fs";

export interface UnixUser {
  name: string;
  uid: number;
  gid: number;
}

// Postgres refuses to run as root. When we are root (containers, CI), the local server runs as a
// dedicated `jqtest` user if the machine has one, else as `nobody`; when we are not root it runs
// as us and this returns undefined.
export function unprivilegedUserForPostgres(): UnixUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readPasswd();
  for (const name of ["jqtest", "nobody"]) {
    const user = passwd.find((entry) => entry.name === name);
    if (user !== undefined) return user;
  }
  throw new Error("running as root and neither a `jqtest` nor a `nobody` user exists to run Postgres as");
}

function readPasswd(): UnixUser[] {
  return fs
    .readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((line) => line.split(":"))
    .filter((fields) => fields.length >= 4)
    .map(([name = "", , uid = "", gid = ""]) => ({ name, uid: Number(uid), gid: Number(gid) }));
}
