#include "bench/infer_compare/onnx_writer.h"

#include <cstring>
#include <vector>

namespace edgeloop::bench {
namespace {

// Protobuf wire format: varints (type 0), 32-bit (type 5) and length-delimited (type 2) fields.
class Proto {
 public:
  Proto& Varint(int field, uint64_t v) {
    Key(field, 0);
    Raw(v);
    return *this;
  }
  Proto& Float(int field, float f) {
    Key(field, 5);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>(bits >> (8 * i)));
    return *this;
  }
  Proto& Bytes(int field, const std::string& bytes) {
    Key(field, 2);
    Raw(bytes.size());
    out_ += bytes;
    return *this;
  }
  Proto& Message(int field, const Proto& m) { return Bytes(field, m.out_); }
  const std::string& str() const { return out_; }

 private:
  void Key(int field, int type) { Raw(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(type)); }
  void Raw(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  std::string out_;
};

enum DataType { kFloat = 1, kInt8 = 3, kInt32 = 6, kInt64 = 7 };

template <typename T>
Proto Tensor(const std::string& name, DataType type, const std::vector<int64_t>& dims, const std::vector<T>& values) {
  Proto t;
  for (int64_t d : dims) t.Varint(1, static_cast<uint64_t>(d));
  t.Varint(2, type);
  t.Bytes(8, name);
  t.Bytes(9, std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
  return t;
}

Proto ValueInfo(const std::string& name, DataType type, const std::vector<int64_t>& dims) {
  Proto shape;
  for (int64_t d : dims) shape.Message(1, Proto().Varint(1, static_cast<uint64_t>(d)));
  Proto tensor;
  tensor.Varint(1, type).Message(2, shape);
  return Proto().Bytes(1, name).Message(2, Proto().Message(1, tensor));
}

Proto IntsAttr(const std::string& name, const std::vector<int64_t>& v) {
  Proto a;
  a.Bytes(1, name);
  for (int64_t x : v) a.Varint(8, static_cast<uint64_t>(x));
  a.Varint(20, 7);  // INTS
  return a;
}

Proto IntAttr(const std::string& name, int64_t v) { return Proto().Bytes(1, name).Varint(3, static_cast<uint64_t>(v)).Varint(20, 2); }

Proto Node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out,
           const std::vector<Proto>& attrs = {}) {
  Proto n;
  for (const std::string& s : in) n.Bytes(1, s);
  for (const std::string& s : out) n.Bytes(2, s);
  n.Bytes(3, out[0] + "_node").Bytes(4, op);
  for (const Proto& a : attrs) n.Message(5, a);
  return n;
}

}  // namespace

std::string DefaultModelOnnx(const DefaultModel& m, int batch) {
  Proto graph;
  graph.Bytes(2, "edgeloop_default_int8");
  std::vector<Proto> inits;
  const auto scalar_f = [&](const std::string& name, float v) { inits.push_back(Tensor(name, kFloat, {}, std::vector<float>{v})); };
  const auto scalar_i8 = [&](const std::string& name, int32_t v) {
    inits.push_back(Tensor(name, kInt8, {}, std::vector<int8_t>{static_cast<int8_t>(v)}));
  };
  scalar_f("x_scale", m.in_scale);
  scalar_i8("x_zp", m.in_zero_point);
  const auto conv = [&](const std::string& x, const std::string& xq, const QuantLayer& l, const std::string& y) {
    // TFLite OHWI [out][1][k][in] -> ONNX OIW [out][in][k]
    std::vector<int8_t> w(l.weights.size());
    for (int o = 0; o < l.out; ++o)
      for (int k = 0; k < l.k; ++k)
        for (int i = 0; i < l.in; ++i) w[(o * l.in + i) * l.k + k] = l.weights[(o * l.k + k) * l.in + i];
    inits.push_back(Tensor(y + "_w", kInt8, {l.out, l.in, l.k}, w));
    inits.push_back(Tensor(y + "_w_scale", kFloat, {l.out}, l.weight_scales));
    inits.push_back(Tensor(y + "_w_zp", kInt8, {l.out}, std::vector<int8_t>(l.out, 0)));
    inits.push_back(Tensor(y + "_b", kInt32, {l.out}, l.bias));
    scalar_f(y + "_scale", l.out_scale);
    scalar_i8(y + "_zp", l.out_zero_point);
    // ReLU is the clamp at the output zero point -128: already the int8 minimum.
    graph.Message(1, Node("QLinearConv",
                          {x, xq + "_scale", xq + "_zp", y + "_w", y + "_w_scale", y + "_w_zp", y + "_scale", y + "_zp",
                           y + "_b"},
                          {y}, {IntsAttr("pads", {1, 1}), IntsAttr("kernel_shape", {3})}));
  };
  const auto pool = [&](const std::string& x, const std::string& y) {
    graph.Message(1, Node("MaxPool", {x}, {y}, {IntsAttr("kernel_shape", {2}), IntsAttr("strides", {2})}));
  };
  const auto dense = [&](const std::string& x, const std::string& xq, const QuantLayer& l, const std::string& y) {
    std::vector<int8_t> w(l.weights.size());  // [out][in] -> [in][out]
    for (int o = 0; o < l.out; ++o)
      for (int i = 0; i < l.in; ++i) w[i * l.out + o] = l.weights[o * l.in + i];
    inits.push_back(Tensor(y + "_w", kInt8, {l.in, l.out}, w));
    scalar_f(y + "_w_scale", l.weight_scales[0]);
    scalar_i8(y + "_w_zp", 0);
    scalar_f(y + "_scale", l.out_scale);
    scalar_i8(y + "_zp", l.out_zero_point);
    graph.Message(1, Node("QLinearMatMul",
                          {x, xq + "_scale", xq + "_zp", y + "_w", y + "_w_scale", y + "_w_zp", y + "_scale", y + "_zp"},
                          {y}));
  };
  conv("x", "x", m.conv1, "c1");
  pool("c1", "p1");
  conv("p1", "c1", m.conv2, "c2");
  pool("c2", "p2");
  inits.push_back(Tensor("flat_shape", kInt64, {2}, std::vector<int64_t>{batch, 1024}));
  graph.Message(1, Node("Reshape", {"p2", "flat_shape"}, {"flat"}));
  dense("flat", "c2", m.dense1, "d1");
  dense("d1", "d1", m.dense2, "d2");
  graph.Message(1, Node("DequantizeLinear", {"d2", "d2_scale", "d2_zp"}, {"logits"}));
  graph.Message(1, Node("Softmax", {"logits"}, {"probs"}, {IntAttr("axis", 1)}));
  for (const Proto& t : inits) graph.Message(5, t);
  graph.Message(11, ValueInfo("x", kInt8, {batch, 1, m.window}));
  graph.Message(12, ValueInfo("probs", kFloat, {batch, 3}));
  Proto model;
  model.Varint(1, 8).Bytes(2, "edgeloop bench_infer_compare").Message(7, graph);
  model.Message(8, Proto().Bytes(1, "").Varint(2, 13));
  return model.str();
}

}  // namespace edgeloop::bench
