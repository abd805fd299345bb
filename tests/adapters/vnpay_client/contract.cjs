// The `vnpay` npm library (an independent VNPay client) against our bank simulator.
// Input (stdin, JSON): {host, tmnCode, secret, ipn: {query params}, querydr: {...}, refund: {...}}.
// Output (stdout, JSON): what the library made of each: verified or not, and the bank's answer.
const { VNPay, ignoreLogger } = require("vnpay");

async function main() {
  const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const vnpay = new VNPay({
    tmnCode: input.tmnCode,
    secureSecret: input.secret,
    vnpayHost: input.host,
    queryDrAndRefundHost: input.host,
    hashAlgorithm: "SHA512",
    enableLog: false,
    loggerFn: ignoreLogger,
  });
  const out = {};
  if (input.ipn) {
    const ipn = vnpay.verifyIpnCall(input.ipn);
    out.ipn = { isVerified: ipn.isVerified, isSuccess: ipn.isSuccess };
  }
  if (input.querydr) {
    const answer = await vnpay.queryDr(input.querydr);
    out.querydr = answer;
  }
  if (input.refund) {
    const answer = await vnpay.refund(input.refund);
    out.refund = answer;
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(2);
});
