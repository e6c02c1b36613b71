import { Command } from "commander";
import { CliError } from "../exit-codes.js";

/** Every command path of the program (`""`, `"queue"`, `"queue create"`, …) with the words that may follow it. */
function wordTable(program: Command): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const globals = program.options.map((o) => o.long).filter((l): l is string => l !== undefined);
  const walk = (cmd: Command, path: string): void => {
    const subs = cmd.commands.map((c) => c.name());
    const own = cmd === program ? [] : cmd.options.map((o) => o.long).filter((l): l is string => l !== undefined);
    table.set(path, [...subs, ...own, ...globals, "--help"]);
    for (const sub of cmd.commands) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(program, "");
  return table;
}

/**
 * A bash completion script for jqctl, generated from the command tree so it never drifts from
 * it. zsh loads the same function through bashcompinit.
 */
function bashScript(program: Command): string {
  const cases = [...wordTable(program)]
    .map(([path, words]) => `    "${path}") echo "${words.join(" ")}" ;;`)
    .join("\n");
  return `# jqctl completion: source this file, or eval "$(jqctl completion bash)"
_jqctl_words() {
  case "$1" in
${cases}
  esac
}
_jqctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    case " $(_jqctl_words "$path") " in *" $w "*) path="\${path:+$path }$w" ;; esac
  done
  COMPREPLY=($(compgen -W "$(_jqctl_words "$path")" -- "$cur"))
}
complete -F _jqctl jqctl
`;
}

export function completionCommand(program: Command): Command {
  return new Command("completion")
    .description("print a shell completion script: eval \"$(jqctl completion bash)\" (or zsh)")
    .argument("<shell>", "bash or zsh")
    .action((shell: string) => {
      if (shell === "bash") return void process.stdout.write(bashScript(program));
      if (shell === "zsh") {
        return void process.stdout.write(`# jqctl completion for zsh: eval "$(jqctl completion zsh)" in ~/.zshrc
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(program)}`);
      }
      throw new CliError(`completion: unknown shell "${shell}" (bash or zsh)`);
    });
}
