/** An RFC 6901 JSON pointer to a place in config.json, such as "/linux/sysctl/net.ipv4.ip_forward". */
export function pointer(...tokens: ReadonlyArray<string | number>): string {
  return tokens.map((token) => '/' + String(token).replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}
