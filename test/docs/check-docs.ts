// What test/docs/docs.test.ts checks in one Markdown page, apart so that the test can also show
// that each check fails on a page that breaks it. A page is read as a newcomer reads it:
//   - every relative link ([text](path#anchor)) names a file that exists, and an anchor that is a
//     heading of that page (GitHub's heading ids);
//   - every inline code span or shell-block word that looks like a repository path names a file
//     or folder that exists (from the repository root, or from the page's folder);
//   - every `npm run <script>` / `npm test` / `npm start` names a script of package.json;
//   - no shell block (and no inline command) runs `node …` or `npx …`: the machine's own Node may be
//     older than the project's, which only npm scripts put first on PATH;
//   - every curl to the local stack calls a path the OpenAPI description has (or a dev route),
//     with a body its request schema accepts.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { resolvePointer, validate, type Json } from '../openapi/json-schema.ts';

export interface DocContext {
  readonly root: string;
  readonly scripts: ReadonlySet<string>;
  /** The OpenAPI description, parsed. */
  readonly openapi: { [key: string]: Json };
}

/** Top-level folders and files of the repository that a cited path starts with. */
const REPO_PATH =
  /^(?:(?:\.ci|bench|client|docs|infra|lambda|local|openapi|test|tools)\/[\w.@/-]*|(?:README|CONTRIBUTING)\.md|package\.json|cdk\.json|tsconfig\.json|eslint\.config\.js|\.prettierrc\.json)$/;
/** Inside a shell block: a word that is a repository path with an extension (e.g. `TENANTS_FILE=infra/tenants/dev.json`). */
const SHELL_PATH = /(?<![\w./-])((?:\.ci|bench|client|docs|infra|lambda|local|openapi|test|tools)\/[\w.@/-]*\.\w+)/g;
const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);
const NPM_BUILTINS = new Set(['ci', 'install', 'run', 'test', 'start', 'exec']);
/** The local stack's routes that are not in the OpenAPI description (docs/local.md lists them). */
const DEV_PATH = /^\/dev\//;

interface Block {
  readonly lang: string;
  readonly code: string;
  readonly line: number;
}

/** Fenced blocks, and the page's text with them cut out (line numbers kept). */
export function splitFences(markdown: string): { blocks: Block[]; prose: string } {
  const blocks: Block[] = [];
  const prose: string[] = [];
  let open: { lang: string; line: number; lines: string[] } | undefined;
  markdown.split('\n').forEach((text, index) => {
    const fence = /^\s*```(\S*)/.exec(text);
    if (fence && !open) {
      open = { lang: fence[1]!.toLowerCase(), line: index + 1, lines: [] };
      prose.push('');
    } else if (fence && open && /^\s*```\s*$/.test(text)) {
      blocks.push({ lang: open.lang, code: open.lines.join('\n'), line: open.line });
      open = undefined;
      prose.push('');
    } else if (open) {
      open.lines.push(text);
      prose.push('');
    } else prose.push(text);
  });
  return { blocks, prose: prose.join('\n') };
}

/** GitHub's ids of a page's headings (lowercased, punctuation dropped, spaces to hyphens, repeats numbered). */
export function headingIds(markdown: string): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of splitFences(markdown).prose.split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    ids.add(count === 0 ? base : `${base}-${count}`);
  }
  return ids;
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** Every problem of one page, each naming the line; none when the page is right. */
export function checkPage(file: string, markdown: string, context: DocContext): string[] {
  const problems: string[] = [];
  const where = relative(context.root, file);
  const folder = dirname(file);
  const { blocks, prose } = splitFences(markdown);
  const pathExists = (cited: string) => existsSync(join(context.root, cited)) || existsSync(join(folder, cited));

  // Links: [text](target) and ![alt](target), relative ones only.
  for (const match of prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [path, anchor] = target.split('#', 2) as [string, string | undefined];
    const at = `${where}:${lineOf(prose, match.index)}`;
    const linked = path === '' ? file : resolve(folder, decodeURIComponent(path));
    if (!existsSync(linked)) {
      problems.push(`${at}: the link ${target} names ${relative(context.root, linked)}, which does not exist`);
      continue;
    }
    if (anchor !== undefined && linked.endsWith('.md') && !headingIds(readFileSync(linked, 'utf8')).has(anchor)) {
      problems.push(`${at}: the link ${target}: ${relative(context.root, linked)} has no heading #${anchor}`);
    }
  }

  // Inline code spans: cited paths, and commands.
  for (const match of prose.matchAll(/(`+)([^`]+?)\1/g)) {
    const span = match[2]!.trim();
    const at = `${where}:${lineOf(prose, match.index)}`;
    if (REPO_PATH.test(span) && !pathExists(span))
      problems.push(`${at}: \`${span}\` is not a file or folder of the repository`);
    problems.push(...checkCommands(span, at, context));
  }

  for (const block of blocks) {
    if (!SHELL_LANGS.has(block.lang)) continue;
    block.code.split('\n').forEach((line, offset) => {
      const at = `${where}:${block.line + 1 + offset}`;
      const command = line.replace(/(^|\s)#.*$/, '');
      for (const path of command.matchAll(SHELL_PATH))
        if (!pathExists(path[1]!)) problems.push(`${at}: ${path[1]} is not a file of the repository`);
      problems.push(...checkCommands(command, at, context));
    });
    // Joined continuation lines, so a curl over several lines is read as one command.
    problems.push(...checkCurls(block.code.replace(/\\\n/g, ' '), `${where}:${block.line}`, context));
  }
  return problems;
}

/** npm scripts that exist, and no bare node/npx. */
function checkCommands(text: string, at: string, context: DocContext): string[] {
  const problems: string[] = [];
  // npm's own flags between run and the script name (-s, --silent) are skipped.
  for (const match of text.matchAll(/(?<![\w-])npm\s+(run\s+(?:-{1,2}[a-z-]+\s+)*)?([\w:.-]+)(<?)/g)) {
    const [, run, name, placeholder] = match;
    if (placeholder) continue; // npm run test:<folder>: a pattern, not a command
    if (run) {
      if (!context.scripts.has(name!)) problems.push(`${at}: npm run ${name} is not a script of package.json`);
    } else if (!NPM_BUILTINS.has(name!)) {
      problems.push(
        `${at}: npm ${name} is neither an npm command the docs use (${[...NPM_BUILTINS].join(', ')}) nor npm run <script>`,
      );
    } else if ((name === 'test' || name === 'start') && !context.scripts.has(name)) {
      problems.push(`${at}: npm ${name} has no "${name}" script in package.json`);
    }
  }
  // A command word `node` or `npx` (line start, after ; && | $( or an env assignment).
  for (const match of text.matchAll(/(?:^|[;&|(]\s*|\$\(\s*|^(?:\s*\w+=\S*\s+)+)\s*(node|npx)\s+(\S+)/g)) {
    problems.push(`${at}: \`${match[1]} ${match[2]}\` runs on the machine's Node: give it as an npm script`);
  }
  return problems;
}

/** curl to the local stack: a described path (or a dev route) with a body its schema accepts. */
function checkCurls(code: string, at: string, context: DocContext): string[] {
  const problems: string[] = [];
  for (const line of code.split('\n')) {
    for (const curl of line.matchAll(/curl\s[^|)]*?https?:\/\/(?:127\.0\.0\.1|localhost):3000(\/[\w/{}-]*)[^|)]*/g)) {
      const path = curl[1]!;
      const method = (/-X\s+([A-Z]+)/.exec(curl[0])?.[1] ?? 'GET').toLowerCase();
      if (DEV_PATH.test(path)) continue;
      const operation = (
        (context.openapi.paths as { [key: string]: Json })[path] as { [key: string]: Json } | undefined
      )?.[method] as { [key: string]: Json } | undefined;
      if (!operation) {
        problems.push(`${at}: curl ${method.toUpperCase()} ${path} is not an operation of the OpenAPI description`);
        continue;
      }
      const data = /-d\s+'([^']*)'/.exec(curl[0])?.[1];
      if (data === undefined) continue;
      const schemaRef = (
        (
          (operation.requestBody as { [key: string]: Json } | undefined)?.content as { [key: string]: Json } | undefined
        )?.['application/json'] as { [key: string]: Json } | undefined
      )?.schema;
      if (schemaRef === undefined) {
        problems.push(`${at}: curl ${method.toUpperCase()} ${path} sends a body the operation does not take`);
        continue;
      }
      let body: unknown;
      try {
        body = JSON.parse(data);
      } catch {
        problems.push(`${at}: curl ${method.toUpperCase()} ${path}: the body ${data} is not JSON`);
        continue;
      }
      const schema =
        typeof schemaRef === 'object' && schemaRef && '$ref' in schemaRef && typeof schemaRef.$ref === 'string'
          ? resolvePointer(context.openapi, schemaRef.$ref)!
          : schemaRef;
      for (const issue of validate(schema, body, context.openapi))
        problems.push(`${at}: curl ${method.toUpperCase()} ${path}: ${issue.path} ${issue.message}`);
    }
  }
  return problems;
}
