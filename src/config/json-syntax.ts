// Finds where a JSON text stops being valid JSON. JSON.parse only sometimes
// says where (and then as a character offset), so when it fails we re-scan the
// text to tell the user the line and column.

export interface JsonSyntaxProblem {
  line: number;
  column: number;
  message: string;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

/** The first syntax error in `text`, or undefined if it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  try {
    const scanner = new Scanner(text);
    scanner.skipSpace();
    scanner.value();
    scanner.skipSpace();
    if (scanner.offset < text.length) scanner.fail('unexpected text after the end of the JSON value');
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    return { ...lineAndColumn(text, error.offset), message: error.message };
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lastNewline = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: offset - lastNewline };
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

class Scanner {
  offset = 0;

  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new Stop(this.offset, message);
  }

  skipSpace(): void {
    while (this.offset < this.text.length && ' \t\n\r'.includes(this.text.charAt(this.offset))) this.offset++;
  }

  private describeHere(): string {
    return this.offset >= this.text.length ? 'end of file' : JSON.stringify(this.text.charAt(this.offset));
  }

  private expect(char: string, what: string): void {
    if (this.text.charAt(this.offset) !== char) this.fail(`expected ${what}, found ${this.describeHere()}`);
    this.offset++;
  }

  // Nesting is followed iteratively (a stack of open brackets) so that a
  // deeply nested file cannot overflow the call stack while being diagnosed.
  value(): void {
    const open: string[] = [];
    for (;;) {
      this.skipSpace();
      const char = this.text.charAt(this.offset);
      if (char === '{' || char === '[') {
        this.offset++;
        this.skipSpace();
        const closer = char === '{' ? '}' : ']';
        if (this.text.charAt(this.offset) === closer) {
          this.offset++;
        } else {
          open.push(char);
          if (char === '{') this.memberName();
          continue;
        }
      } else {
        this.scalar();
      }
      // A value is complete: close every container that ends here, then
      // continue with the next element of the innermost one still open.
      for (;;) {
        const innermost = open.at(-1);
        if (innermost === undefined) return;
        this.skipSpace();
        const closer = innermost === '{' ? '}' : ']';
        if (this.text.charAt(this.offset) === ',') {
          this.offset++;
          if (innermost === '{') {
            this.skipSpace();
            this.memberName();
          }
          break;
        }
        this.expect(closer, `"," or "${closer}"`);
        open.pop();
      }
    }
  }

  private memberName(): void {
    if (this.text.charAt(this.offset) !== '"') this.fail(`expected a property name in double quotes, found ${this.describeHere()}`);
    this.string();
    this.skipSpace();
    this.expect(':', '":" after the property name');
  }

  private scalar(): void {
    const char = this.text.charAt(this.offset);
    if (char === '"') return this.string();
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.offset)) {
        this.offset += word.length;
        return;
      }
    }
    NUMBER.lastIndex = this.offset;
    const number = NUMBER.exec(this.text);
    if (number !== null) {
      this.offset += number[0].length;
      return;
    }
    this.fail(`expected a value, found ${this.describeHere()}`);
  }

  private string(): void {
    const start = this.offset;
    this.offset++;
    for (;;) {
      if (this.offset >= this.text.length) {
        this.offset = start;
        this.fail('string is never closed');
      }
      const char = this.text.charAt(this.offset);
      if (char === '"') {
        this.offset++;
        return;
      }
      if (char < ' ') this.fail('control character (such as a newline or tab) inside a string; write it as an escape like \\n');
      if (char === '\\') {
        const escaped = this.text.charAt(this.offset + 1);
        if (escaped === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.offset + 2, this.offset + 6))) this.fail('\\u must be followed by four hex digits');
          this.offset += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(escaped) || escaped === '') this.fail(`invalid escape \\${escaped}`);
        this.offset += 2;
        continue;
      }
      this.offset++;
    }
  }
}
