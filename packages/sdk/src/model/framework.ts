/**
 * Framework names and framework detection from a weights file name (sdk-behaviour.md §2.6), as ClearML's
 * `Framework._get_file_ext` does it, so both SDKs record the same framework for the same file.
 */

export const Framework = {
  tensorflow: 'TensorFlow',
  tensorflowjs: 'TensorFlow_js',
  tensorflowlite: 'TensorFlow_Lite',
  pytorch: 'PyTorch',
  torchscript: 'TorchScript',
  caffe: 'Caffe',
  caffe2: 'Caffe2',
  onnx: 'ONNX',
  keras: 'Keras',
  mxnet: 'MXNet',
  cntk: 'CNTK',
  torch: 'Torch',
  darknet: 'Darknet',
  paddlepaddle: 'PaddlePaddle',
  scikitlearn: 'ScikitLearn',
  xgboost: 'XGBoost',
  lightgbm: 'LightGBM',
  parquet: 'Parquet',
  megengine: 'MegEngine',
  catboost: 'CatBoost',
  tensorrt: 'TensorRT',
  openvino: 'OpenVINO',
} as const;
export type FrameworkName = (typeof Framework)[keyof typeof Framework];

/** Extension → frameworks, checked in this order on the lower-cased file name. */
const EXTENSIONS: readonly (readonly [string, readonly string[]])[] = [
  ['.pb', ['TensorFlow', 'TensorFlow_js', 'ONNX']],
  ['.meta', ['TensorFlow']],
  ['.pbtxt', ['TensorFlow', 'ONNX']],
  ['.zip', ['TensorFlow']],
  ['.tgz', ['TensorFlow']],
  ['.tar.gz', ['TensorFlow']],
  ['model.json', ['TensorFlow_js']],
  ['.tflite', ['TensorFlow_Lite']],
  ['.pth', ['PyTorch']],
  ['.pt', ['PyTorch']],
  ['.caffemodel', ['Caffe']],
  ['.prototxt', ['Caffe']],
  ['predict_net.pb', ['Caffe2']],
  ['predict_net.pbtxt', ['Caffe2']],
  ['.onnx', ['ONNX']],
  ['.h5', ['Keras']],
  ['.hdf5', ['Keras']],
  ['.keras', ['Keras']],
  ['.model', ['MXNet', 'CNTK', 'XGBoost']],
  ['-symbol.json', ['MXNet']],
  ['.cntk', ['CNTK']],
  ['.t7', ['Torch']],
  ['.cfg', ['Darknet']],
  ['__model__', ['PaddlePaddle']],
  ['.pkl', ['ScikitLearn', 'Keras', 'XGBoost', 'MegEngine']],
  ['.parquet', ['Parquet']],
  ['.cbm', ['CatBoost']],
  ['.plan', ['TensorRT']],
];

/**
 * `[framework, extension]` for a file name: the first matching extension's first framework when no framework is
 * given; otherwise the given framework with the first matching extension that lists it; else the text after the
 * last dot (without the dot).
 */
export function detectFramework(framework: string | null | undefined, filename: string): [string | null, string] {
  const name = filename.toLowerCase();
  if (!framework) {
    for (const [ext, frameworks] of EXTENSIONS) if (name.endsWith(ext)) return [frameworks[0], ext];
  } else {
    for (const [ext, frameworks] of EXTENSIONS) if (name.endsWith(ext) && frameworks.includes(framework)) return [framework, ext];
  }
  const dot = name.lastIndexOf('.');
  return [framework || null, dot < 0 ? '' : name.slice(dot + 1)];
}

/** Framework families, as ClearML's `Framework.get_framework_parents`. */
export function frameworkParents(framework: string): string[] {
  const parents: Record<string, string[]> = {
    tensorflow: ['TensorFlow', 'TensorFlow_js', 'TensorFlow_Lite', 'Keras'],
    pytorch: ['PyTorch'],
    xgboost: ['XGBoost'],
    lightgbm: ['LightGBM'],
    catboost: ['CatBoost'],
    joblib: ['ScikitLearn', 'XGBoost'],
  };
  return Object.entries(parents).filter(([, members]) => members.includes(framework)).map(([parent]) => parent);
}
