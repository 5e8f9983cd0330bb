import { csvCell, csvHeader, csvRow, neutraliseCell } from '../../server/audit/csv';

describe('CSV cells', () => {
  it.each(['=SUM(A1:A2)', '+1', '-1+2', '@cmd', '\tx', '\rx'])('neutralises %j so spreadsheets do not run it', (value) => {
    expect(neutraliseCell(value)).toBe(`'${value}`);
  });

  it('leaves ordinary text alone', () => {
    expect(neutraliseCell('ada@contoso.test')).toBe('ada@contoso.test');
    expect(neutraliseCell('a=b')).toBe('a=b');
  });

  it('quotes per RFC 4180', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('');
    expect(csvRow(['x', 1, '=1+1'])).toBe("x,1,'=1+1\r\n");
  });

  it('quotes cells with a semicolon, which semicolon locales read as a separator', () => {
    expect(csvCell('a;b')).toBe('"a;b"');
    expect(csvCell('=1;2')).toBe('"\'=1;2"');
  });

  it('neutralises before quoting', () => {
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe('"\'=HYPERLINK(""http://evil"",""x"")"');
  });
});

describe('CSV files', () => {
  it('start with a UTF-8 byte order mark so Excel on Windows reads them as UTF-8', () => {
    expect(csvHeader(['name', 'Chloé'])).toBe('\uFEFFname,Chloé\r\n');
    expect(Buffer.from(csvHeader(['a'])).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });
});
