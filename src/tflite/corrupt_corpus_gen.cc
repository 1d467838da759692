// Regenerates test/data/tflite/corrupt/: damaged and inconsistent .tflite files, each of which
// ReadModel must reject with a clean Status (never a crash), and MANIFEST.tsv listing for each file
// the expected status code and a piece of the message ("*" = any code, empty = any message).
//
// Usage: tflite_corrupt_corpus_gen SOURCE_MODEL.tflite OUT_DIR
// Files are built with the generated FlatBuffers API directly, bypassing WriteModel's validation,
// so the semantic damage (indices, sizes, quantization vectors) reaches the reader. Every file is
// checked here before it is written: one that ReadModel accepts is a generator bug.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "edgeloop/tflite/io.h"
#include "schema_generated.h"

namespace edgeloop::tflite {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

// Knobs on a small valid model: FULLY_CONNECTED(x[1,4] float, w[2,4] const, b[2] const) -> y[1,2].
struct Knobs {
  uint32_t version = 3;
  int subgraphs = 1;
  std::vector<int32_t> op_inputs{0, 1, 2};
  std::vector<int32_t> op_outputs{3};
  std::vector<int32_t> graph_inputs{0};
  std::vector<int32_t> graph_outputs{3};
  uint32_t opcode_index = 0;
  int8_t deprecated_code = 9;
  int32_t code = 9;
  std::string custom_code;
  uint32_t weight_buffer = 1;
  size_t weight_bytes = 32;
  std::vector<int32_t> weight_shape{2, 4};
  std::vector<int32_t> weight_signature;
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  bool custom_quantization = false;
  bool sparse = false;
  bool pool_options_on_fc = false;
  int8_t activation = 0;
  uint64_t external_offset = 0;
  uint32_t metadata_buffer = 0;
  bool with_metadata = false;
};

std::vector<uint8_t> Build(const Knobs& k) {
  FlatBufferBuilder fbb;
  std::vector<Offset<fb::Buffer>> buffers{fb::CreateBuffer(fbb)};
  std::vector<uint8_t> weights(k.weight_bytes, 0x3f);
  buffers.push_back(fb::CreateBuffer(fbb, fbb.CreateVector(weights), k.external_offset, k.external_offset ? 32 : 0));
  std::vector<uint8_t> bias(8, 0);
  buffers.push_back(fb::CreateBuffer(fbb, fbb.CreateVector(bias)));
  auto shape = [&](std::vector<int32_t> s) { return fbb.CreateVector(s); };
  Offset<fb::QuantizationParameters> quant = 0;
  if (!k.scale.empty() || !k.zero_point.empty() || k.custom_quantization) {
    quant = fb::CreateQuantizationParameters(
        fbb, 0, 0, fbb.CreateVector(k.scale), fbb.CreateVector(k.zero_point),
        k.custom_quantization ? fb::QuantizationDetails::CustomQuantization : fb::QuantizationDetails::NONE,
        k.custom_quantization ? fb::CreateCustomQuantization(fbb).Union() : 0, k.quantized_dimension);
  }
  std::vector<Offset<fb::Tensor>> tensors{
      fb::CreateTensor(fbb, shape({1, 4}), 0, 0, fbb.CreateString("x")),
      fb::CreateTensor(fbb, shape(k.weight_shape), 0, k.weight_buffer, fbb.CreateString("w"), quant, false,
                       k.sparse ? fb::CreateSparsityParameters(fbb) : 0,
                       k.weight_signature.empty() ? 0 : shape(k.weight_signature)),
      fb::CreateTensor(fbb, shape({2}), 0, 2, fbb.CreateString("b")),
      fb::CreateTensor(fbb, shape({1, 2}), 0, 0, fbb.CreateString("y"))};
  Offset<void> options = k.pool_options_on_fc ? fb::CreatePool2DOptions(fbb).Union()
                                              : fb::CreateFullyConnectedOptions(fbb, k.activation).Union();
  const auto options_type =
      k.pool_options_on_fc ? fb::BuiltinOptions::Pool2DOptions : fb::BuiltinOptions::FullyConnectedOptions;
  std::vector<Offset<fb::Operator>> ops{fb::CreateOperator(fbb, k.opcode_index, fbb.CreateVector(k.op_inputs),
                                                           fbb.CreateVector(k.op_outputs), options_type, options)};
  std::vector<Offset<fb::SubGraph>> subgraphs;
  for (int i = 0; i < k.subgraphs; ++i) {
    subgraphs.push_back(fb::CreateSubGraph(fbb, fbb.CreateVector(tensors), fbb.CreateVector(k.graph_inputs),
                                           fbb.CreateVector(k.graph_outputs), fbb.CreateVector(ops)));
  }
  std::vector<Offset<fb::OperatorCode>> codes{fb::CreateOperatorCode(
      fbb, k.deprecated_code, k.custom_code.empty() ? 0 : fbb.CreateString(k.custom_code), 1, k.code)};
  std::vector<Offset<fb::Metadata>> metadata;
  if (k.with_metadata) metadata.push_back(fb::CreateMetadata(fbb, fbb.CreateString("edgeloop"), k.metadata_buffer));
  auto model = fb::CreateModel(fbb, k.version, fbb.CreateVector(codes), fbb.CreateVector(subgraphs), 0,
                               fbb.CreateVector(buffers), k.with_metadata ? fbb.CreateVector(metadata) : 0);
  fb::FinishModelBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

struct Entry {
  std::string file;
  std::string code;  // "Corruption", "InvalidArgument" or "*"
  std::string message_part;
};

class Corpus {
 public:
  explicit Corpus(std::string dir) : dir_(std::move(dir)) {}

  // Writes `bytes` as `file` after checking ReadModel rejects it as expected. False (and a message)
  // when it does not.
  bool Add(const std::string& file, const std::vector<uint8_t>& bytes, const std::string& code,
           const std::string& message_part) {
    Result<Graph> g = ReadModel(bytes);
    if (g.ok()) {
      std::fprintf(stderr, "%s: ReadModel accepts it\n", file.c_str());
      return false;
    }
    const std::string got = StatusCodeName(g.status().code());
    if ((code != "*" && got != code) || g.status().message().find(message_part) == std::string::npos) {
      std::fprintf(stderr, "%s: got %s '%s', want %s '%s'\n", file.c_str(), got.c_str(),
                   g.status().message().c_str(), code.c_str(), message_part.c_str());
      return false;
    }
    std::ofstream(dir_ + "/" + file, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    entries_.push_back({file, code, message_part});
    return true;
  }

  bool WriteManifest() const {
    std::ofstream out(dir_ + "/MANIFEST.tsv");
    out << "# file\texpected status code (* = any)\tpart of the message (empty = any)\n";
    for (const Entry& e : entries_) out << e.file << '\t' << e.code << '\t' << e.message_part << '\n';
    return static_cast<bool>(out);
  }

 private:
  std::string dir_;
  std::vector<Entry> entries_;
};

int Run(const std::string& source_path, const std::string& dir) {
  std::ifstream in(source_path, std::ios::binary);
  const std::vector<uint8_t> source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (source.size() < 64 || !ReadModel(source).ok()) {
    std::fprintf(stderr, "%s: not a readable model\n", source_path.c_str());
    return 1;
  }
  Corpus c(dir);
  bool ok = true;
  // Truncated at many offsets, from the header into the last bytes.
  for (size_t n : {size_t{0}, size_t{3}, size_t{7}, size_t{8}, size_t{12}, size_t{16}, size_t{24}, size_t{40},
                   size_t{64}, size_t{100}, size_t{256}, source.size() / 4, source.size() / 3, source.size() / 2,
                   source.size() * 2 / 3, source.size() * 3 / 4, source.size() - 64, source.size() - 16,
                   source.size() - 4}) {
    ok &= c.Add("truncated_" + std::to_string(n) + ".tflite", std::vector<uint8_t>(source.begin(), source.begin() + n),
                "Corruption", "");
  }
  std::vector<uint8_t> wrong_id = source;
  std::memcpy(wrong_id.data() + 4, "TFL2", 4);
  ok &= c.Add("wrong_identifier.tflite", wrong_id, "Corruption", "file identifier is 'TFL2'");
  // Random bytes, with and without a valid identifier in front.
  std::mt19937 rng(20261124);
  for (int i = 0; i < 6; ++i) {
    std::vector<uint8_t> r(16 + rng() % 2000);
    for (uint8_t& v : r) v = static_cast<uint8_t>(rng());
    if (i % 2 == 1) std::memcpy(r.data() + 4, "TFL3", 4);
    ok &= c.Add("random_" + std::to_string(i) + ".bin", r, "Corruption", "");
  }
  // Bit flips in the structural part of the file (offsets, vtables, lengths): keep the first 12
  // the reader rejects (a flip in a weight value gives a valid file and is skipped).
  int kept = 0;
  for (int attempt = 0; attempt < 4000 && kept < 12; ++attempt) {
    std::vector<uint8_t> f = source;
    const size_t pos = rng() % f.size();
    f[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
    if (ReadModel(f).ok()) continue;
    ok &= c.Add("bitflip_" + std::to_string(pos) + ".tflite", f, "*", "");
    ++kept;
  }
  // Semantic damage on a valid flatbuffer.
  auto add = [&](const std::string& file, const std::function<void(Knobs&)>& edit, const std::string& code,
                 const std::string& part) {
    Knobs k;
    edit(k);
    ok &= c.Add(file, Build(k), code, part);
  };
  if (!ReadModel(Build(Knobs{})).ok()) {
    std::fprintf(stderr, "the generator's base model does not read\n");
    return 1;
  }
  add("op_input_out_of_range.tflite", [](Knobs& k) { k.op_inputs = {0, 7, 2}; }, "Corruption",
      "operator 0 (FULLY_CONNECTED): input 1 refers to tensor 7 (the graph has 4)");
  add("op_input_negative.tflite", [](Knobs& k) { k.op_inputs = {-1, 1, 2}; }, "Corruption",
      "input 0 refers to tensor -1");
  add("op_output_out_of_range.tflite", [](Knobs& k) { k.op_outputs = {4}; }, "Corruption",
      "output 0 refers to tensor 4");
  add("graph_input_out_of_range.tflite", [](Knobs& k) { k.graph_inputs = {12}; }, "Corruption",
      "subgraph inputs[0] refers to tensor 12");
  add("graph_output_out_of_range.tflite", [](Knobs& k) { k.graph_outputs = {-5}; }, "Corruption",
      "subgraph outputs[0] refers to tensor -5");
  add("buffer_index_out_of_range.tflite", [](Knobs& k) { k.weight_buffer = 9; }, "Corruption",
      "tensor 1 ('w'): buffer index 9 is out of range (3 buffers)");
  add("opcode_index_out_of_range.tflite", [](Knobs& k) { k.opcode_index = 5; }, "Corruption",
      "operator 0: opcode_index 5 is out of range (1 operator codes)");
  add("buffer_too_small.tflite", [](Knobs& k) { k.weight_bytes = 28; }, "Corruption",
      "tensor 1 ('w'): buffer has 28 bytes, shape [2,4] x FLOAT32 needs 32");
  add("buffer_too_large.tflite", [](Knobs& k) { k.weight_bytes = 48; }, "Corruption", "buffer has 48 bytes");
  add("shape_negative.tflite", [](Knobs& k) { k.weight_shape = {2, -4}; }, "Corruption", "negative dimension");
  add("shape_overflow.tflite", [](Knobs& k) { k.weight_shape = {65536, 65536, 4}; }, "Corruption",
      "too many elements");
  add("shape_signature_mismatch.tflite", [](Knobs& k) { k.weight_signature = {-1, 4, 1}; }, "Corruption",
      "shape_signature [-1,4,1] does not match shape [2,4]");
  add("quant_zero_point_length.tflite",
      [](Knobs& k) {
        k.scale = {0.1f, 0.2f};
        k.zero_point = {0};
      },
      "Corruption", "scale has 2 values, zero_point has 1");
  add("quant_channel_count.tflite",
      [](Knobs& k) {
        k.scale = {0.1f, 0.2f, 0.3f};
        k.zero_point = {0, 0, 0};
      },
      "Corruption", "3 per-channel scales for dimension 0 of shape [2,4]");
  add("quant_dimension_out_of_range.tflite",
      [](Knobs& k) {
        k.scale = {0.1f, 0.2f};
        k.zero_point = {0, 0};
        k.quantized_dimension = 2;
      },
      "Corruption", "quantized_dimension 2 is outside shape [2,4]");
  add("quant_zero_point_without_scale.tflite", [](Knobs& k) { k.zero_point = {3}; }, "Corruption",
      "zero_point without scale");
  add("quant_custom_details.tflite", [](Knobs& k) { k.custom_quantization = true; }, "InvalidArgument",
      "custom quantization");
  add("sparse_tensor.tflite", [](Knobs& k) { k.sparse = true; }, "InvalidArgument", "sparse tensors");
  add("two_subgraphs.tflite", [](Knobs& k) { k.subgraphs = 2; }, "InvalidArgument", "2 subgraphs");
  add("no_subgraph.tflite", [](Knobs& k) { k.subgraphs = 0; }, "Corruption", "no subgraph");
  add("schema_version_2.tflite", [](Knobs& k) { k.version = 2; }, "InvalidArgument", "schema version 2");
  add("options_type_mismatch.tflite", [](Knobs& k) { k.pool_options_on_fc = true; }, "Corruption",
      "operator 0 (FULLY_CONNECTED): builtin_options has union type 5, expected 8 (FullyConnectedOptions)");
  add("activation_out_of_range.tflite", [](Knobs& k) { k.activation = 17; }, "Corruption",
      "fused_activation_function 17 is not a valid value");
  add("input_count.tflite", [](Knobs& k) { k.op_inputs = {0}; }, "Corruption",
      "operator 0 (FULLY_CONNECTED): has 1 inputs, expected 2 to 3");
  add("custom_op.tflite",
      [](Knobs& k) {
        k.deprecated_code = 32;
        k.code = 32;
        k.custom_code = "TFLite_Detection_PostProcess";
      },
      "InvalidArgument", "custom operator 'TFLite_Detection_PostProcess'");
  add("metadata_buffer_out_of_range.tflite",
      [](Knobs& k) {
        k.with_metadata = true;
        k.metadata_buffer = 40;
      },
      "Corruption", "metadata 0 ('edgeloop'): buffer index 40 is out of range");
  add("external_buffer.tflite", [](Knobs& k) { k.external_offset = 4096; }, "InvalidArgument",
      "stored outside the flatbuffer");
  if (!ok || !c.WriteManifest()) return 1;
  return 0;
}

}  // namespace
}  // namespace edgeloop::tflite

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SOURCE_MODEL.tflite OUT_DIR\n", argv[0]);
    return 2;
  }
  return edgeloop::tflite::Run(argv[1], argv[2]);
}
